"""Every sentence a candidate can see that is not quoted from the documents.

Kept in one place so it can be reviewed and translated together. Each entry has an
English and a Chinese text; `say(key, lang, **values)` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass

_TEXTS: dict[str, dict[str, str]] = {
    "refusal": {
        "en": "I couldn't find an answer to that in {lab}'s documents, and I won't guess. "
              "Please ask the recruitment team at {contact}.",
        "zh": "在{lab}的资料中没有找到这个问题的答案，我不便猜测。请联系招聘团队：{contact}。",
    },
    "refusal_topic": {
        "en": "{lab}'s documents don't state anything about {topic}, so I can't answer that. "
              "Please ask the recruitment team at {contact}.",
        "zh": "{lab}的资料中没有关于{topic}的说明，因此我无法回答。请联系招聘团队：{contact}。",
    },
    # For a question about another group than ours: never "our lab's documents" for someone else's page.
    "refusal_other": {
        "en": "I couldn't find an answer to that about {subject} in the documents I have, and I won't guess. "
              "Please ask the recruitment team at {contact}.",
        "zh": "在我掌握的资料中没有找到关于{subject}的这个问题的答案，我不便猜测。请联系招聘团队：{contact}。",
    },
    "refusal_topic_other": {
        "en": "The documents I have don't state anything about {topic} for {subject}, so I can't answer that. "
              "Please ask the recruitment team at {contact}.",
        "zh": "我掌握的资料中没有关于{subject}的{topic}的说明，因此我无法回答。请联系招聘团队：{contact}。",
    },
    "handoff": {
        "en": "For this, please contact the recruitment team at {contact}.",
        "zh": "这个问题请直接联系招聘团队：{contact}。",
    },
    "evidence_intro": {
        "en": "",
        "zh": "根据{lab}的资料：",
    },
    # When the evidence names no single organisation (never our lab for someone else's page).
    "evidence_intro_neutral": {
        "en": "",
        "zh": "根据检索到的资料：",
    },
    # Evidence quoted as written, in the other language than the question.
    "quoted_note": {
        "en": "(Quoted as written in the source, which is in Chinese.)",
        "zh": "（以上引文为英文资料原文。）",
    },
    "premise_unconfirmed": {
        "en": "The documents don't confirm the figure in your question. This is what they say:",
        "zh": "资料并未证实您问题中的数字。资料中的说法如下：",
    },
    "not_stated": {
        "en": "The documents don't say this in so many words. This is what they say:",
        "zh": "资料中没有直接说明这一点。以下是相关内容：",
    },
    "instruction": {
        "en": "I answer candidates' questions about {lab} from its documents, and I don't take instructions "
              "about what to say. Ask me about research areas, positions, the campus, funding, partners or how to "
              "apply; for anything else, the recruitment team is at {contact}.",
        "zh": "我只根据{lab}的资料回答候选人的问题，不接受关于回答内容的指令。您可以问研究方向、招聘岗位、园区、"
              "经费、合作伙伴或申请方式；其他问题请联系招聘团队：{contact}。",
    },
    "conflict": {
        "en": "Note: the documents give different figures for this; both are quoted above with their sources.",
        "zh": "注意：不同资料给出的数字不一致，以上分别列出并注明出处。",
    },
    "truncated": {
        "en": "(Your message was long, so I read only its first {limit} characters.)",
        "zh": "（您的消息较长，我只读取了前 {limit} 个字符。）",
    },
    "help": {
        "en": "Hi! I answer questions about {lab} from its own documents: research areas and open positions, "
              "the campus, funding, partners, and how to apply. Ask me anything, for example "
              "\"Which research areas are recruiting?\" or \"How big is the campus?\". "
              "When the documents don't say, I'll point you to {contact}.",
        "zh": "您好！我根据{lab}的资料回答问题：研究方向与招聘岗位、园区、经费、合作伙伴以及如何申请。"
              "例如可以问“有哪些研究方向在招聘？”或“园区有多大？”。资料中没有的信息，我会请您联系 {contact}。",
    },
    "acknowledged": {
        "en": "Glad to help. Ask me anything else about {lab}, or say \"talk to a person\" to reach the recruitment team.",
        "zh": "不客气。关于{lab}还有什么想了解的，随时问我；如需联系招聘人员，请发送“转人工”。",
    },
    "new_conversation": {
        "en": "OK, starting over: earlier questions in this conversation are forgotten.",
        "zh": "好的，重新开始：之前的对话内容已清除。",
    },
    # --- positions and research-fit matching (bot.recruiting) ---
    "positions_intro": {
        "en": "Positions and programmes in {lab}'s records{what}:",
        "zh": "{lab}记录中{what}的岗位和项目：",
    },
    "positions_what": {"en": " for {topic}", "zh": "与“{topic}”相关"},
    "position_details": {
        "en": "Level: {levels} · Location: {location} · Apply: {apply}",
        "zh": "层级：{levels} · 地点：{location} · 申请：{apply}",
    },
    "position_current": {"en": "Open, confirmed {date}.", "zh": "开放，确认于{date}。"},
    "position_current_short": {"en": "open, confirmed {date}", "zh": "开放，确认于{date}"},
    "position_stale_short": {"en": "open, last confirmed {date} (please check)", "zh": "开放，最近确认于{date}（请核实）"},
    "position_not_open_short": {"en": "not open: {status}", "zh": "未开放：{status}"},
    "position_stale": {
        "en": "Open, last confirmed {date} — please check with {contact}.",
        "zh": "开放，最近一次确认于{date}，请向 {contact} 核实。",
    },
    "position_not_open": {
        "en": "Not open: {status}, confirmed {date}.",
        "zh": "未开放：{status}，确认于{date}。",
    },
    "positions_more": {
        "en": "Ask about one of them (e.g. \"positions in robotics\") for its level, location and how to apply. Where it "
              "says \"please check\", write to {contact} to confirm that it is still open.",
        "zh": "可以单独询问某一项（例如“机器人方向的岗位”），了解层级、地点和申请方式。标有“请核实”的，请发邮件至 {contact} "
              "确认是否仍在招聘。",
    },
    "position_unknown": {"en": "not stated in the records", "zh": "记录中未说明"},
    "apply_ask": {"en": "the records don't say; ask {contact}", "zh": "记录中未说明，请咨询 {contact}"},
    "positions_none": {
        "en": "{lab}'s records have no open position or programme{what}, and I won't offer a different one as if it "
              "were. Openings are listed in: {areas}. Please ask the recruitment team at {contact}.",
        "zh": "{lab}的记录中没有{what}开放的岗位或项目，我不会拿其他岗位充数。目前开放的方向有：{areas}。"
              "请联系招聘团队：{contact}。",
    },
    "positions_empty": {
        "en": "{lab}'s documents have no position records yet. Please ask the recruitment team at {contact}.",
        "zh": "{lab}的资料中还没有岗位记录。请联系招聘团队：{contact}。",
    },
    "match_intro": {
        "en": "From what you describe, these openings in {lab}'s records fit best:",
        "zh": "根据您的介绍，{lab}记录中以下开放方向最契合：",
    },
    "match_reason": {"en": "Why: \"{reason}\"", "zh": "理由：“{reason}”"},
    "match_next": {
        "en": "Next step: write to the address under Apply, say which field and role you are interested in, and "
              "include your CV; for anything else, the recruitment team is at {contact}.",
        "zh": "下一步：按“申请”一栏的方式联系，说明您感兴趣的方向和岗位并附上简历；其他问题请联系招聘团队：{contact}。",
    },
    "match_none": {
        "en": "I couldn't find an open position in {lab}'s records that fits this background, and I won't stretch one "
              "to fit. Openings are listed in: {areas}. If your work fits one of them, write to {contact}.",
        "zh": "在{lab}的记录中没有找到与您背景契合的开放岗位，我不会勉强匹配。目前开放的方向有：{areas}。"
              "如果您的研究与其中某个方向相关，请联系 {contact}。",
    },
    "match_how": {
        "en": "Tell me about your background and I'll suggest where it fits, e.g. \"match me: PhD in speech "
              "recognition, now working on FPGA accelerators\".",
        "zh": "请介绍您的研究背景，我来推荐契合的方向，例如：“匹配：博士研究语音识别，目前从事FPGA加速器”。",
    },
    # --- registering interest, forget-me and handoff (bot.candidates) ---
    "consent": {
        "en": "Before you register: I'll store your name, email address, the research areas or position you're "
              "interested in and an optional note, with your {platform} user ID and the time you agree. "
              "Why: so that {lab}'s recruitment team can contact you about openings. Who sees it: the recruitment "
              "team only. How long: {days} days, then it is deleted. You can delete it at any time by saying "
              "\"forget me\". Do you agree?",
        "zh": "登记之前请知悉：我将保存您的姓名、电子邮箱、感兴趣的研究方向或岗位以及可选的备注，并记录您的{platform}"
              "用户ID和同意的时间。目的：便于{lab}招聘团队就招聘机会与您联系。可见范围：仅限招聘团队。保存期限：{days}天，"
              "到期后删除。您可随时发送“删除我的信息”删除。您同意吗？",
    },
    "consent_yes": {"en": "Yes, I agree", "zh": "同意"},
    "consent_no": {"en": "No, thanks", "zh": "不同意"},
    "private_please": {
        "en": "To keep your details private, click \"Yes, I agree\" above (a form only you can see opens), or send "
              "me a direct message.",
        "zh": "为保护您的个人信息，请点击上方的“同意”按钮（将打开只有您能看到的表单），或给我发私信。",
    },
    "consent_declined": {"en": "OK, nothing was stored.", "zh": "好的，没有保存任何信息。"},
    "interest_title": {"en": "Register your interest", "zh": "登记求职意向"},
    "interest_submit": {"en": "Register", "zh": "提交"},
    "edit": {"en": "Edit and resend", "zh": "修改并重新提交"},
    "field_name": {"en": "Your name", "zh": "姓名"},
    "field_email": {"en": "Email address", "zh": "电子邮箱"},
    "field_areas": {"en": "Research area(s) or position", "zh": "研究方向或岗位"},
    "field_areas_hint": {"en": "e.g. {example}", "zh": "例如：{example}"},
    "field_note": {"en": "Anything else? (optional)", "zh": "其他说明（可选）"},
    "ask_name": {"en": "What's your name?", "zh": "请问您的姓名？"},
    "ask_email": {"en": "Which email address should the team write to?", "zh": "招聘团队应通过哪个邮箱联系您？"},
    "ask_areas": {"en": "Which research area(s) or position are you interested in?", "zh": "您对哪些研究方向或岗位感兴趣？"},
    "ask_note": {"en": "Anything you'd like to add? Type \"skip\" to leave it empty.", "zh": "还有其他想补充的吗？输入“跳过”可留空。"},
    "ask_cancel": {"en": "(Type \"cancel\" to stop.)", "zh": "（输入“取消”可停止。）"},
    "invalid_required": {"en": "{label}: this is needed.", "zh": "{label}：此项必填。"},
    "invalid_email": {"en": "{label}: that doesn't look like an email address (e.g. name@example.org).",
                      "zh": "{label}：邮箱格式不正确（例如 name@example.org）。"},
    "invalid_length": {"en": "{label}: please keep it under {limit} characters.",
                       "zh": "{label}：请不要超过{limit}个字符。"},
    "interest_saved": {
        "en": "Thank you, {name}: your interest in {areas} is registered, and {lab}'s recruitment team will contact you "
              "at {email}. To delete it, say \"forget me\" at any time.",
        "zh": "谢谢，{name}：您对“{areas}”的意向已登记，{lab}招聘团队将通过 {email} 与您联系。如需删除，随时发送“删除我的信息”。",
    },
    "flow_cancelled": {"en": "OK, stopped: nothing was stored.", "zh": "好的，已停止，没有保存任何信息。"},
    "flow_expired": {
        "en": "That form has expired, so nothing was stored. Say \"register my interest\" to start again.",
        "zh": "该表单已过期，没有保存任何信息。发送“我想申请”可重新开始。",
    },
    "forgotten": {
        "en": "Done: I deleted {what}, and our conversation is forgotten. Nothing else about you is kept.",
        "zh": "已完成：删除了{what}，我们的对话也已清除。不再保留您的其他信息。",
    },
    "forget_confirm": {
        "en": "Shall I delete everything I keep about you: your interest registrations, the answers you got and "
              "your feedback on them, your handoff requests, and our conversation?",
        "zh": "要删除我保存的关于您的全部信息吗？包括意向登记、您收到的回答及反馈、转人工请求，以及我们的对话。",
    },
    "forget_yes": {"en": "Yes, delete it", "zh": "删除"},
    "forget_no": {"en": "No, keep it", "zh": "不删除"},
    "forget_declined": {"en": "OK, nothing was deleted.", "zh": "好的，没有删除任何信息。"},
    "forgotten_none": {
        "en": "I had nothing stored about you except our conversation, which is now forgotten.",
        "zh": "除了我们的对话之外，没有保存您的任何信息；对话也已清除。",
    },
    "handoff_offer": {
        "en": "I can pass this conversation ({questions} question(s), with my answers and their sources) to {who}, who "
              "will reply {how}. Shall I send it?",
        "zh": "我可以把这段对话（{questions}个问题及我的回答和来源）转给{who}，他们会{how}回复您。要发送吗？",
    },
    "handoff_yes": {"en": "Yes, send it", "zh": "发送"},
    "handoff_no": {"en": "No", "zh": "不用了"},
    "handoff_sent": {
        "en": "Sent: {who} will reply {how}. If it's urgent, you can also write to {contact}.",
        "zh": "已发送：{who}会{how}回复您。如有急事，也可以发邮件至 {contact}。",
    },
    "handoff_failed": {
        "en": "Sorry, I couldn't reach {who} just now. Your request is saved for the team, but to be sure of an "
              "answer please write to {contact}.",
        "zh": "抱歉，暂时无法联系到{who}。您的请求已为团队保存；为确保得到答复，请发邮件至 {contact}。",
    },
    "handoff_unset": {
        "en": "A person from the recruitment team will gladly help: please write to {contact}.",
        "zh": "招聘团队的工作人员很乐意为您解答，请发邮件至 {contact}。",
    },
    "handoff_declined": {"en": "OK, nothing was sent.", "zh": "好的，没有发送。"},
    "recruitment_team": {"en": "the recruitment team", "zh": "招聘团队"},
    "how_here": {"en": "here on {platform}", "zh": "在{platform}上"},
    "how_email": {"en": "by email once you write to {contact}", "zh": "在您发邮件至 {contact} 后通过邮件"},
    "sources": {"en": "Sources", "zh": "来源"},
    "helpful": {"en": "Helpful", "zh": "有帮助"},
    "not_helpful": {"en": "Not helpful", "zh": "没有帮助"},
    "feedback_thanks": {"en": "Thanks, your feedback was recorded.", "zh": "谢谢，您的反馈已记录。"},
    "rate_limited": {
        "en": "You're sending questions faster than I can keep up with. Please wait about {seconds} seconds "
              "and ask again.",
        "zh": "您的提问有点快，请大约 {seconds} 秒后再问。",
    },
    "unavailable": {
        "en": "I can't reach the lab's documents right now, so I can't answer reliably. Please try again in a few "
              "minutes, or write to {contact}.",
        "zh": "暂时无法访问实验室资料，因此无法可靠地回答。请几分钟后再试，或发邮件至 {contact}。",
    },
    "error": {
        "en": "Sorry, something went wrong while I was answering. Please try again in a moment, or write to {contact}.",
        "zh": "抱歉，回答时出现了问题。请稍后再试，或发邮件至 {contact}。",
    },
}

# What the platforms' shortcut commands (/about, /apply) ask the knowledge base.
SHORTCUT_QUESTIONS: dict[str, dict[str, str]] = {
    "about": {"en": "What is {lab}, who founded it and where is it?", "zh": "{lab}是什么机构？由谁创办？在哪里？"},
    "apply": {"en": "How do I apply, and whom do I contact?", "zh": "如何申请？应该联系谁？"},
}

# Names of the topics the bot never answers from general knowledge (see compose.SENSITIVE).
TOPIC_NAMES: dict[str, dict[str, str]] = {
    "pay": {"en": "salary or pay", "zh": "薪酬待遇"},
    "visa": {"en": "visas or work permits", "zh": "签证或工作许可"},
    "deadline": {"en": "application deadlines", "zh": "申请截止日期"},
    "housing": {"en": "housing or relocation", "zh": "住房或安家"},
    "benefits": {"en": "benefits or insurance", "zh": "福利或保险"},
    "stock": {"en": "shares or investment advice", "zh": "股票或投资建议"},
}


# What "forget me" deleted, as counted.
KINDS = {
    "interest": {"en": ("{n} interest registration", "{n} interest registrations"), "zh": ("{n}条意向登记",) * 2},
    "answers": {"en": ("{n} recorded answer", "{n} recorded answers"), "zh": ("{n}条问答记录",) * 2},
    "feedback": {"en": ("{n} feedback click", "{n} feedback clicks"), "zh": ("{n}条反馈",) * 2},
    "handoffs": {"en": ("{n} handoff request", "{n} handoff requests"), "zh": ("{n}条转人工请求",) * 2},
}
PLATFORMS = {"discord": "Discord", "slack": "Slack", "console": "console", "cli": "command line"}


def counted(kind: str, n: int, lang: str) -> str:
    forms = KINDS[kind].get(lang, KINDS[kind]["en"])
    return forms[n != 1].format(n=n)


# Career levels (bot.recruiting.positions.LEVELS) and record statuses as candidates read them.
LEVEL_NAMES: dict[str, dict[str, str]] = {
    "chief scientist": {"zh": "首席科学家"}, "researcher": {"zh": "研究员"}, "postdoc": {"zh": "博士后"},
    "PhD student": {"zh": "博士生"}, "intern": {"zh": "实习生"}, "engineer": {"zh": "工程师"}, "student": {"zh": "学生"},
}
STATUS_NAMES: dict[str, dict[str, str]] = {"open": {"zh": "开放"}, "closed": {"zh": "已关闭"}, "paused": {"zh": "已暂停"}}


def level_name(level: str, lang: str) -> str:
    return LEVEL_NAMES.get(level, {}).get(lang, level)


def status_name(status: str, lang: str) -> str:
    return STATUS_NAMES.get(status, {}).get(lang, status)


def framing_pattern():
    """A regex matching any line of the bot's own framing (placeholders match anything): what
    the evaluation must not count as quoted evidence."""
    import re

    keys = ("evidence_intro", "evidence_intro_neutral", "quoted_note", "premise_unconfirmed", "not_stated", "conflict",
            "handoff")
    alternatives = [re.escape(t).replace(re.escape("{lab}"), ".+?").replace(re.escape("{contact}"), ".+?")
                    for k in keys for t in _TEXTS[k].values() if t]
    return re.compile(r"^(?:" + "|".join(alternatives) + r")$")


@dataclass(frozen=True)
class Command:
    """A command the platforms offer (a slash command on Discord and Slack, typed in the console)."""

    name: str
    description: dict[str, str]                              # per language
    options: tuple[tuple[str, dict[str, str]], ...] = ()     # (name, description per language)
    slack: bool = True                                       # also a Slack slash command (deploy/slack-manifest.yml)
    # "question": its text is a question; "command": the core's (Question.command); "shortcut": a stock
    # question (SHORTCUT_QUESTIONS); "help": the help text; "reset": a new conversation.
    kind: str = "command"
    aliases: tuple[str, ...] = ()                            # other names it is typed by


# The one list of commands: Discord registers them (with the Chinese descriptions for Chinese clients),
# Slack's manifest lists those marked for it, the console accepts them typed.
COMMANDS = (
    Command("ask", {"en": "Ask about research areas, positions, campus, funding, partners or applying",
                    "zh": "询问研究方向、岗位、园区、经费、合作伙伴或申请方式"},
            (("question", {"en": "Your question, in English or Chinese", "zh": "您的问题（中文或英文）"}),), kind="question"),
    Command("positions", {"en": "Open positions and programmes, with how to apply", "zh": "开放的岗位与项目，以及申请方式"},
            (("area", {"en": "Only this research area, e.g. robotics", "zh": "只看这个研究方向，例如机器人"}),
             ("level", {"en": "Only this level, e.g. postdoc", "zh": "只看这个层级，例如博士后"}))),
    Command("match", {"en": "Which openings fit your research background?", "zh": "哪些岗位适合您的研究背景？"},
            (("background", {"en": "Your research background, or paste a CV summary",
                             "zh": "您的研究背景，或粘贴简历摘要"}),)),
    Command("interest", {"en": "Register your interest; the recruitment team will contact you (asks your consent first)",
                         "zh": "登记求职意向，招聘团队会与您联系（先征得您的同意）"}),
    Command("handoff", {"en": "Pass this conversation to a person on the recruitment team",
                        "zh": "把这段对话转给招聘团队的工作人员"}),
    Command("forget", {"en": "Delete everything the bot keeps about you", "zh": "删除机器人保存的关于您的全部信息"}),
    Command("about", {"en": "What the lab is, who founded it, where it is", "zh": "实验室是什么、由谁创立、在哪里"},
            slack=False, kind="shortcut"),
    Command("apply", {"en": "How to apply, and whom to contact", "zh": "如何申请、联系谁"}, slack=False, kind="shortcut"),
    Command("help", {"en": "What this bot can answer", "zh": "这个机器人能回答什么"}, slack=False, kind="help",
            aliases=("start",)),
    Command("new", {"en": "Start a new conversation (earlier questions no longer count)",
                    "zh": "开始新的对话（之前的问题不再计入）"}, slack=False, kind="reset", aliases=("reset",)),
)


def command(name: str) -> Command:
    return next(c for c in COMMANDS if c.name == name)


def typed(text: str) -> tuple[Command, str] | None:
    """A command typed as a message ("/positions robotics", "/new"): the command and what follows it."""
    name, _, rest = text.strip().partition(" ")
    if not name.startswith("/"):
        return None
    name = name[1:].lower()
    found = next((c for c in COMMANDS if name == c.name or name in c.aliases), None)
    return (found, rest.strip()) if found else None


def say(key: str, lang: str, **values: object) -> str:
    texts = _TEXTS[key]
    return texts.get(lang, texts["en"]).format(**values)


def shortcut_question(command: str, lang: str, lab: str) -> str:
    texts = SHORTCUT_QUESTIONS[command]
    return texts.get(lang, texts["en"]).format(lab=lab)


def topic_name(topic: str, lang: str) -> str:
    names = TOPIC_NAMES[topic]
    return names.get(lang, names["en"])
