"""Natural text in each script a chat meets, to hold the token estimate against a real tokenizer."""

# ruff: noqa: RUF001 - text in other scripts is what this corpus is for

from __future__ import annotations

ENGLISH = (
    "All human beings are born free and equal in dignity and rights. They are endowed with reason and "
    "conscience and should act towards one another in a spirit of brotherhood. Everyone is entitled to all "
    "the rights and freedoms set forth in this Declaration, without distinction of any kind, such as race, "
    "colour, sex, language, religion, political or other opinion, national or social origin, property, "
    "birth or other status."
)
ENGLISH_CHAT = (
    "Hey! Could you add 5 to the sum, then multiply it by 3? After that I'd like to divide by 2, "
    "if that's OK. Also, what's the total right now? I think it was 1,234.56 yesterday at 3:45 p.m., "
    "but I'm not sure anymore... Thanks a lot, you're a lifesaver :)"
)
CHINESE = (
    "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。"
    "人人有资格享有本宣言所载的一切权利和自由，不分种族、肤色、性别、语言、宗教、政治或其他见解、"
    "国籍或社会出身、财产、出生或其他身分等任何区别。"
)
CHINESE_CHAT = (
    "你好！请帮我把总数加上五，然后再乘以三。如果可以的话，之后再除以二。现在的总数是多少？"
    "我记得昨天下午三点左右是一千二百三十四点五六，不过我也不太确定了。非常感谢你的帮助！"
)
JAPANESE = (
    "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
    "人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。"
)
JAPANESE_CHAT = (
    "こんにちは！合計に5を足して、それから3を掛けてもらえますか？そのあと2で割ってほしいです。"
    "今の合計はいくつですか？昨日の午後はたしか千二百くらいだったと思うんですけど、よく覚えていません。"
    "コンピューターとインターネットのおかげで、とても便利になりましたね。ありがとうございます！"
)
KOREAN = (
    "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 "
    "양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다. 안녕하세요! 합계에 5를 더하고 3을 "
    "곱해 주실 수 있나요? 정말 감사합니다."
)
ARABIC = (
    "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا وعليهم أن يعامل بعضهم "
    "بعضًا بروح الإخاء. مرحبا! هل يمكنك أن تضيف خمسة إلى المجموع ثم تضربه في ثلاثة؟ شكرا جزيلا لك."
)
HEBREW = (
    "כל בני האדם נולדו בני חורין ושווים בערכם ובזכויותיהם. כולם חוננו בתבונה ובמצפון, לפיכך חובה "
    "עליהם לנהוג איש ברעהו ברוח של אחווה."
)
HINDI = (
    "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। उन्हें बुद्धि और "
    "अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिए। नमस्ते! क्या आप कुल "
    "योग में पाँच जोड़कर उसे तीन से गुणा कर सकते हैं? बहुत धन्यवाद।"
)
RUSSIAN = (
    "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и "
    "совестью и должны поступать в отношении друг друга в духе братства. Привет! Можешь прибавить пять "
    "к сумме, а потом умножить на три? Большое спасибо!"
)
GREEK = (
    "Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα. Είναι "
    "προικισμένοι με λογική και συνείδηση, και οφείλουν να συμπεριφέρονται μεταξύ τους με πνεύμα αδελφοσύνης."
)
THAI = (
    "มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกันในเกียรติศักดิ์และสิทธิ ต่างมีเหตุผลและมโนธรรม "
    "และควรปฏิบัติต่อกันด้วยเจตนารมณ์แห่งภราดรภาพ สวัสดีครับ ช่วยบวกห้าเข้าไปในผลรวมแล้วคูณด้วยสามได้ไหมครับ ขอบคุณมากครับ"
)
FRENCH = (
    "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et "
    "de conscience et doivent agir les uns envers les autres dans un esprit de fraternité. Où est la "
    "bibliothèque ? Ça coûte très cher, n'est-ce pas ?"
)
VIETNAMESE = (
    "Tất cả mọi người sinh ra đều được tự do và bình đẳng về nhân phẩm và quyền lợi. Mọi con người đều "
    "được tạo hóa ban cho lý trí và lương tâm và cần phải đối xử với nhau trong tình anh em."
)
GERMAN_POLISH = (
    "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen "
    "begabt und sollen einander im Geist der Brüderlichkeit begegnen. Größe, Straße, Übung, Ärger. "
    "Wszyscy ludzie rodzą się wolni i równi pod względem swej godności i swych praw. Zażółć gęślą jaźń."
)
NUMBERS = (
    "Invoice 2026-11-30: 3 items x $19.99 = $59.97; order #A1B2C3, ref 9f86d081884c7d65; call +1 (555) "
    "123-4567 before 17:30. Pi is 3.14159265358979, e is 2.71828, and 2^32 = 4294967296. IP 192.168.0.1:8080."
)
EMOJI_RUN = "😀" * 3990
"""The message of issue 18: 3,990 emoji."""
EMOJI_CHAT = "I love it 😍😍😍 this is 🔥🔥 great job 👏👏👏 see you tomorrow 👋😊 🎉🎂🥳 🙏❤️✨"
EMOJI_MIXED = "😀😂🥲🤔🙈🐶🍕⚽️🚀❤️🔥✨🎉👍🙏💯🌍🌈☀️🌙⭐️🍎🍌🍇🥑🥦🫠🫶🪐🧋"
EMOJI_SKIN_TONES = "👍🏻👍🏼👍🏽👍🏾👍🏿👋🏻👋🏽👋🏿🤝🏽🙌🏾✌🏼🤙🏿👏🏽💪🏻🫶🏾"
EMOJI_ZWJ = "👨‍👩‍👧‍👦👩‍❤️‍👨👨‍💻👩‍🔬🏳️‍🌈🧑‍🤝‍🧑👨‍👨‍👧‍👧🏃‍♀️👩🏽‍🚀🧑🏿‍🍳🐻‍❄️❤️‍🔥"
EMOJI_FLAGS = "🇯🇵🇺🇸🇫🇷🇩🇪🇨🇳🇧🇷🇮🇳🇬🇧🇺🇦🇰🇷🇪🇸🇮🇹🇲🇽🇨🇦🇦🇺"
EMOJI_KEYCAPS = "1️⃣2️⃣3️⃣4️⃣5️⃣#️⃣*️⃣🔟"
PYTHON = '''def trim_history(history: Sequence[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """The newest whole turns of ``history`` whose estimate fits ``budget``."""
    kept: list[list[dict[str, Any]]] = []
    used = 0
    for unit in reversed(_units(history)):
        cost = sum(estimate_tokens(message) for message in unit)
        if kept and used + cost > budget:
            break
        kept.append(unit)
        used += cost
    return [message for unit in reversed(kept) for message in unit]
'''
JAVASCRIPT = """export async function onChat(button, call) {
  button.disabled = true;
  try {
    const { data } = await call({ chatDocument: state.chat });
    render(data);
  } catch (error) {
    show(error?.message ?? String(error));
  } finally {
    button.disabled = false;
  }
}
const squares = [1, 2, 3].map((x) => x ** 2).filter(Boolean);
"""
JSON_TOOL_OUTPUT = (
    '{"role": "tool", "tool_call_id": "call_0_1", "content": "{\\"sum\\": 30, \\"ok\\": true, '
    '\\"items\\": [1.5, 2.25, -3e10, null], \\"id\\": \\"9f86d081884c7d65\\", '
    '\\"updatedAt\\": \\"2026-11-30T03:57:12.345Z\\"}"}'
)
SQL = (
    "SELECT u.id, u.email, COUNT(m.id) AS messages\nFROM users u\nLEFT JOIN messages m ON m.user_id = u.id\n"
    "WHERE u.created_at >= '2026-01-01' AND m.author = 'user'\nGROUP BY u.id, u.email\n"
    "ORDER BY messages DESC\nLIMIT 20;"
)
SHELL = "cd ~/app && ./emulator/exec -- python -m pytest tests/test_context_budget.py -m 'not openai' -q 2>&1 | tail -5"
MARKDOWN = (
    "## Results\n\n| step | value |\n|---|---|\n| add 5 | **5** |\n| multiply by 3 | **15** |\n\n"
    "- The sum is `15`.\n- Next: *divide by 2*.\n\n```python\nprint(15 / 2)\n```\n"
)
MIXED = (
    "Hi 你好 😀 — Привет! मेरा नाम Ana है. 東京 🇯🇵 2026年11月30日 def f(x): return x**2 ✨ مرحبا "
    "Ça va? 잘 지내요 👍🏽 שלום 🙂 Καλημέρα"
)

CORPUS: dict[str, str] = {
    "English prose": ENGLISH,
    "English chat": ENGLISH_CHAT,
    "Chinese prose": CHINESE,
    "Chinese chat": CHINESE_CHAT,
    "Japanese prose": JAPANESE,
    "Japanese chat": JAPANESE_CHAT,
    "Korean": KOREAN,
    "Arabic": ARABIC,
    "Hebrew": HEBREW,
    "Hindi": HINDI,
    "Russian": RUSSIAN,
    "Greek": GREEK,
    "Thai": THAI,
    "French": FRENCH,
    "Vietnamese": VIETNAMESE,
    "German and Polish": GERMAN_POLISH,
    "numbers and ids": NUMBERS,
    "emoji run (issue 18)": EMOJI_RUN,
    "emoji in a chat": EMOJI_CHAT,
    "emoji mixed": EMOJI_MIXED,
    "emoji skin tones": EMOJI_SKIN_TONES,
    "emoji ZWJ sequences": EMOJI_ZWJ,
    "emoji flags": EMOJI_FLAGS,
    "emoji keycaps": EMOJI_KEYCAPS,
    "Python": PYTHON,
    "JavaScript": JAVASCRIPT,
    "JSON tool output": JSON_TOOL_OUTPUT,
    "SQL": SQL,
    "shell": SHELL,
    "Markdown": MARKDOWN,
    "mixed scripts": MIXED,
}
