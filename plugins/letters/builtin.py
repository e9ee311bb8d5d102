"""The built-in letter templates (Arabic). Admins edit them in the UI; each save is a new version and
these texts only seed version 1. Merge fields are listed in ``render.FIELD_HELP``."""

GREETING = "<p>السلام عليكم ورحمة الله وبركاته، وبعد:</p>\n"
CLOSING = "<p>وتقبلوا خالص التحية والتقدير.</p>\n"

BUILTIN = [
    {
        "key": "acknowledgement",
        "purpose": "acknowledgement",
        "name_ar": "إشعار باستلام طلب",
        "name_en": "Acknowledgement of receipt",
        "subject": "إشعار باستلام طلبكم رقم {{ case_reference }}",
        "body": GREETING + """<p>نفيدكم بأن الجمعية استلمت طلبكم ({{ request_type }}) المسجل برقم
<bdi>{{ case_reference }}</bdi> بتاريخ {{ submitted_date }}، وسيُدرس وفق سياسة علاقات المستفيدين.</p>
<p>الموعد المتوقع للرد على طلبكم: {{ expected_reply_date }}.</p>
<p>يمكنكم متابعة الطلب بذكر رقمه عند التواصل مع الجمعية.</p>
""" + CLOSING,
        "extra_fields": "",
    },
    {
        "key": "missing_documents",
        "purpose": "missing_documents",
        "name_ar": "إشعار بنقص مستندات",
        "name_en": "Missing-documents notice",
        "subject": "استكمال مستندات الطلب رقم {{ case_reference }}",
        "body": GREETING + """<p>بالإشارة إلى طلبكم رقم <bdi>{{ case_reference }}</bdi>، نأمل تزويد الجمعية بالمستندات
الآتية لاستكمال دراسة الطلب:</p>
{{ missing_documents|lines }}
<p>وذلك في موعد أقصاه {{ deadline }}، علمًا بأن الطلب يبقى معلقًا حتى استكمالها.</p>
""" + CLOSING,
        "extra_fields": "missing_documents|المستندات الناقصة (سطر لكل مستند)|Missing documents (one a line)|text\n"
                        "deadline|آخر موعد للتسليم|Deadline|date",
    },
    {
        "key": "research_referral",
        "purpose": "research_referral",
        "name_ar": "إحالة إلى البحث الاجتماعي",
        "name_en": "Referral to social research",
        "subject": "إحالة الطلب رقم {{ case_reference }} إلى البحث الاجتماعي",
        "body": GREETING + """<p>نفيدكم بأن طلبكم رقم <bdi>{{ case_reference }}</bdi> ({{ request_type }}) قد أُحيل إلى
الباحث الاجتماعي {{ researcher_name }} لإجراء الدراسة الاجتماعية، وسيتواصل معكم لتحديد موعد الزيارة.</p>
<p>نأمل التعاون مع الباحث وتزويده بما يطلبه من معلومات.</p>
""" + CLOSING,
        "extra_fields": "",
    },
    {
        "key": "decision_approved",
        "purpose": "decision_approved",
        "name_ar": "قرار اللجنة — الموافقة",
        "name_en": "Committee decision — approval",
        "subject": "قرار لجنة البحث بشأن الطلب رقم {{ case_reference }}",
        "body": GREETING + """<p>يسرّنا إفادتكم بأن لجنة البحث قررت <strong>الموافقة</strong> على طلبكم رقم
<bdi>{{ case_reference }}</bdi> ({{ request_type }}){% if amount is defined %} بمبلغ {{ amount }}{% endif %}{% if quantity is defined %} بكمية {{ quantity }}{% endif %}.</p>
{% if conditions is defined %}<p>شروط الموافقة: {{ conditions }}</p>{% endif %}
{% if decision_reasons is defined %}<p>{{ decision_reasons|paragraphs }}</p>{% endif %}
<p>ستتواصل معكم الجمعية لتحديد موعد تقديم الخدمة.</p>
""" + CLOSING,
        "extra_fields": "",
    },
    {
        "key": "decision_rejected",
        "purpose": "decision_rejected",
        "name_ar": "قرار اللجنة — الاعتذار مع الأسباب",
        "name_en": "Committee decision — rejection with reasons",
        "subject": "قرار لجنة البحث بشأن الطلب رقم {{ case_reference }}",
        "body": GREETING + """<p>نفيدكم بأن لجنة البحث درست طلبكم رقم <bdi>{{ case_reference }}</bdi> ({{ request_type }})،
وقررت <strong>الاعتذار</strong> عن قبوله للأسباب الآتية:</p>
{{ decision_reasons|lines }}
<p>ويحق لكم التظلم من القرار خلال ثلاثين يومًا من تاريخ هذا الخطاب، أو التقدم بطلب جديد عند تغيّر ظروفكم.</p>
""" + CLOSING,
        "extra_fields": "",
    },
    {
        "key": "service_delivery",
        "purpose": "service_delivery",
        "name_ar": "إشعار بتقديم خدمة",
        "name_en": "Service-delivery notice",
        "subject": "إشعار بتقديم خدمة للطلب رقم {{ case_reference }}",
        "body": GREETING + """<p>نفيدكم بأنه سيتم تقديم الخدمة الآتية لكم ضمن الطلب رقم <bdi>{{ case_reference }}</bdi>:</p>
<p><strong>{{ service }}</strong></p>
<p>الموعد: {{ delivery_date }}{% if delivery_place is defined %}، المكان: {{ delivery_place }}{% endif %}.</p>
<p>نأمل إحضار الهوية الوطنية أو الإقامة عند الاستلام.</p>
""" + CLOSING,
        "extra_fields": "service|الخدمة المقدمة|Service|text\n"
                        "delivery_date|موعد التقديم|Delivery date|date\n"
                        "delivery_place|مكان التقديم|Place|optional",
    },
    {
        "key": "general",
        "purpose": "general",
        "name_ar": "خطاب عام",
        "name_en": "General letter",
        "subject": "{{ subject_text }}",
        "body": GREETING + "{{ body_text|paragraphs }}\n" + CLOSING,
        "extra_fields": "subject_text|الموضوع|Subject|line\nbody_text|نص الخطاب|Letter text|text",
    },
    {
        "key": "committee_minutes",
        "purpose": "committee_minutes",
        "name_ar": "محضر جلسة لجنة البحث",
        "name_en": "Committee session minutes",
        "subject": "محضر جلسة لجنة البحث{% if session_title is defined %}: {{ session_title }}{% endif %}",
        "body": """<p>عقدت لجنة البحث جلستها بتاريخ {{ session_date }} برئاسة {{ chair_name }}، وبحضور الأعضاء:</p>
{{ members|lines }}
<p>النصاب المطلوب لكل طلب: <bdi>{{ quorum }}</bdi> من الأصوات. ونظرت اللجنة في الطلبات الآتية وقررت ما يلي:</p>
{{ decisions }}
<p>وبهذا انتهت الجلسة، والله الموفق.</p>
""",
        "extra_fields": "",
    },
    {
        "key": "volunteer_certificate",
        "purpose": "volunteer_certificate",
        "name_ar": "شهادة تطوع",
        "name_en": "Volunteering certificate",
        "subject": "شهادة تطوع",
        "body": """<p>تشهد الجمعية بأن المتطوع/ة <strong>{{ volunteer_name }}</strong>{% if volunteer_id_number is defined %}
(هوية رقم <bdi dir="ltr">{{ volunteer_id_number }}</bdi>){% endif %} قد تطوّع/ت في أعمال الجمعية خلال المدة
من {{ period_from }} إلى {{ period_to }}، بعدد ساعات تطوع معتمدة قدرها <bdi>{{ volunteer_hours }}</bdi> ساعة.</p>
{% if volunteer_tasks is defined %}<p>ومن الأعمال التي شارك فيها:</p>
{{ volunteer_tasks|lines }}{% endif %}
<p>وقد أُعطيت له/ا هذه الشهادة بناءً على طلبه/ا، شاكرين له/ا عطاءه/ا، سائلين الله أن يجعله في موازين حسناته/ا.</p>
""",
        "extra_fields": "volunteer_name|اسم المتطوع|Volunteer's name|line\n"
                        "volunteer_id_number|رقم الهوية|ID number|optional\n"
                        "volunteer_hours|عدد الساعات المعتمدة|Approved hours|line\n"
                        "period_from|بداية المدة|From|date\n"
                        "period_to|نهاية المدة|To|date\n"
                        "volunteer_tasks|الأعمال (سطر لكل عمل)|Tasks (one a line)|optional",
    },
]
