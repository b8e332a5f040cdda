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

# What the platforms' shortcut commands (/positions, /about, /apply) ask the knowledge base.
SHORTCUT_QUESTIONS: dict[str, dict[str, str]] = {
    "positions": {"en": "Which research fields is {lab} recruiting in, and for which positions?",
                  "zh": "{lab}在哪些研究方向招聘？招聘哪些岗位？"},
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
