"""Every sentence a candidate can see that is not quoted from the documents.

Kept in one place so it can be reviewed and translated together. Each entry has an
English and a Chinese text; `say(key, lang, **values)` picks one.
"""

from __future__ import annotations

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


def say(key: str, lang: str, **values: object) -> str:
    texts = _TEXTS[key]
    return texts.get(lang, texts["en"]).format(**values)


def shortcut_question(command: str, lang: str, lab: str) -> str:
    texts = SHORTCUT_QUESTIONS[command]
    return texts.get(lang, texts["en"]).format(lab=lab)


def topic_name(topic: str, lang: str) -> str:
    names = TOPIC_NAMES[topic]
    return names.get(lang, names["en"])
