//! What is not the article: tags, class/id vocabulary and text shapes of boilerplate.
//!
//! These are the conventions of publishing software in general (WordPress, Drupal, Arc, Ghost,
//! newspaper CMSs), never the markup of one site; site knowledge lives in site-rule files.

/// Elements that never carry article text.
pub fn is_never_content_tag(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "template"
            | "iframe"
            | "object"
            | "embed"
            | "button"
            | "input"
            | "select"
            | "textarea"
            | "option"
            | "nav"
            | "aside"
            | "footer"
            | "dialog"
            | "menu"
            | "svg"
            | "canvas"
            | "map"
            | "link"
            | "meta"
            | "head"
            | "title"
            | "label"
    )
}

/// Splits `class` and `id` values into lowercase word tokens: `relatedPosts__item` and
/// `related-posts_item` both give `related`, `posts`, `item`.
pub fn tokens(class: Option<&str>, id: Option<&str>) -> Vec<String> {
    let mut buf = String::new();
    tokens_into(&[class.unwrap_or(""), id.unwrap_or("")], &mut buf);
    buf.split_ascii_whitespace().map(str::to_owned).collect()
}

/// [`tokens`] of `values` written into `buf` (cleared first), one space after each: for a
/// caller that splits many elements' classes, one buffer instead of a string per word.
pub fn tokens_into(values: &[&str], buf: &mut String) {
    buf.clear();
    for value in values {
        let mut in_word = false;
        let mut prev_lower = false;
        for c in value.chars() {
            if c.is_ascii_alphanumeric() {
                if c.is_ascii_uppercase() && prev_lower && in_word {
                    buf.push(' ');
                }
                prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
                buf.push(c.to_ascii_lowercase());
                in_word = true;
            } else {
                prev_lower = false;
                if in_word {
                    buf.push(' ');
                    in_word = false;
                }
            }
        }
        if in_word {
            buf.push(' ');
        }
    }
}

/// Why an element is boilerplate, judged from its class and id words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Comments,
    Caption,
    /// Share bars, newsletter boxes, related lists, ads, navigation and the like.
    Chrome,
}

/// Single words that mark an element as boilerplate wherever they appear.
const CHROME_WORDS: &[&str] = &[
    "share",
    "sharing",
    "sharebar",
    "social",
    "sociable",
    "newsletter",
    "newsletters",
    "subscribe",
    "subscription",
    "signup",
    "popular",
    "promo",
    "promoted",
    "sponsored",
    "sponsor",
    "advert",
    "advertisement",
    "advertising",
    "ad",
    "ads",
    "adsense",
    "adslot",
    "adunit",
    "dfp",
    "breadcrumb",
    "breadcrumbs",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "paywall",
    "sidebar",
    "widget",
    "widgets",
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "masthead",
    "toolbar",
    "pagination",
    "pager",
    "tagcloud",
    "taglist",
    "outbrain",
    "taboola",
    "modal",
    "dialog",
    "popup",
    "overlay",
    "skiplink",
    "sronly",
    "offscreen",
    "banner",
    "byline",
    "dateline",
    "date",
    "timestamp",
    "pubdate",
    "cta",
    "metadata",
    "linkbox",
    "button",
    "btn",
    "author",
    "bio",
    "disclaimer",
    "rating",
    "ratings",
];

/// Word pairs that mark boilerplate only together ("most read", "read more", "post meta").
const CHROME_PAIRS: &[(&str, &str)] = &[
    ("most", "read"),
    ("most", "viewed"),
    ("most", "popular"),
    ("read", "more"),
    ("more", "stories"),
    ("also", "read"),
    ("read", "next"),
    ("you", "may"),
    ("you", "might"),
    ("post", "meta"),
    ("entry", "meta"),
    ("article", "meta"),
    ("story", "meta"),
    ("meta", "data"),
    ("sign", "up"),
    ("screen", "reader"),
    ("visually", "hidden"),
    ("sr", "only"),
    ("article", "tags"),
    ("post", "tags"),
    ("entry", "tags"),
    ("tag", "list"),
    ("tag", "links"),
    ("tags", "links"),
    ("top", "stories"),
    ("site", "header"),
    ("page", "header"),
    ("site", "footer"),
    ("page", "footer"),
    ("follow", "us"),
    ("author", "info"),
    ("about", "author"),
];

/// Words that mark an article body (Readability's "positive" class words).
const CONTENT_WORDS: &[&str] = &[
    "article",
    "articlebody",
    "content",
    "entry",
    "post",
    "story",
    "storybody",
    "body",
    "text",
    "main",
    "prose",
    "hentry",
    "blog",
];

fn is_comment_word(t: &str) -> bool {
    // "commentary" and "commentaries" are opinion articles, not reader comments.
    (t.starts_with("comment") && !t.starts_with("commentar"))
        || t.starts_with("kommentar")
        || t.starts_with("commentaire")
        || t.starts_with("comentario")
        || t.starts_with("komentarz")
        || matches!(t, "commenti" | "reacties" | "kommentarer")
        || matches!(t, "disqus" | "respond" | "replies" | "discussion" | "coral" | "viafoura")
        || t.starts_with("disqus")
}

fn is_caption_word(t: &str) -> bool {
    matches!(
        t,
        "caption" | "captions" | "credit" | "credits" | "copyright" | "figcaption" | "attribution" | "photographer"
    ) || t.ends_with("caption")
        || t.ends_with("credit")
}

fn chrome_words() -> &'static foldhash::HashSet<&'static str> {
    // A fixed set of our own words: a fast hash is safe whatever a page's class names are.
    static SET: std::sync::OnceLock<foldhash::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| CHROME_WORDS.iter().chain(OTHER_STORIES_WORDS).copied().collect())
}

fn is_chrome_word(t: &str) -> bool {
    chrome_words().contains(t)
        || t.starts_with("share")
        || t.starts_with("social")
        || t.starts_with("newsletter")
        || t.starts_with("related")
        || t.starts_with("breadcrumb")
        || t.starts_with("advert")
        || t.starts_with("sponsor")
        || t.starts_with("outbrain")
        || t.starts_with("taboola")
}

/// Chrome words that name a box of other stories (what a page recommends after the story)
/// whatever wraps it; [`is_chrome_word`] reads them with the rest.
const OTHER_STORIES_WORDS: &[&str] =
    &["related", "recommended", "recommendations", "recirc", "recirculation", "mostread", "trending", "teasers"];

/// Class words of a box of other stories: one of [`OTHER_STORIES_WORDS`], "more stories" or
/// "read next".
pub fn is_other_stories_box<T: AsRef<str>>(tokens: &[T]) -> bool {
    tokens.iter().any(|t| OTHER_STORIES_WORDS.contains(&t.as_ref()))
        || tokens.windows(2).any(|w| matches!((w[0].as_ref(), w[1].as_ref()), ("more", "stories") | ("read", "next")))
}

/// Words so specific to consent and overlay boxes that no size guard applies: these boxes
/// can hold more text than a short story.
pub fn is_consent_box<T: AsRef<str>>(tokens: &[T]) -> bool {
    tokens.iter().any(|t| matches!(t.as_ref(), "cookie" | "cookies" | "consent" | "gdpr" | "cookiebanner" | "cmp"))
}

/// The boilerplate role of an element from its class/id words, if any.
pub fn role_of<T: AsRef<str>>(tokens: &[T]) -> Option<Role> {
    if tokens.is_empty() {
        return None;
    }
    // "comments-open", "has-comments", "comment-count": states of a post, not the thread.
    // "live-match-comment", "ticker-comment": a match commentary's entries, the story of a
    // live ticker, not readers' comments.
    let comment_state = tokens.iter().any(|t| {
        matches!(
            t.as_ref(),
            "open"
                | "closed"
                | "enabled"
                | "disabled"
                | "has"
                | "allowed"
                | "status"
                | "count"
                | "match"
                | "ticker"
                | "minute"
        )
    });
    if !comment_state && tokens.iter().any(|t| is_comment_word(t.as_ref())) {
        // "no-comments" / "comments-closed" notices are comment chrome too.
        return Some(Role::Comments);
    }
    if tokens.iter().any(|t| is_caption_word(t.as_ref())) {
        return Some(Role::Caption);
    }
    let chrome = tokens.iter().any(|t| is_chrome_word(t.as_ref()))
        || tokens.windows(2).any(|w| CHROME_PAIRS.contains(&(w[0].as_ref(), w[1].as_ref())));
    chrome.then_some(Role::Chrome)
}

/// Readability's class weight: +25 for article vocabulary, -25 for boilerplate vocabulary.
/// `role` is [`role_of`] the same tokens, worked out once by the caller.
pub fn class_weight<T: AsRef<str>>(tokens: &[T], role: Option<Role>) -> f32 {
    let mut w = 0.0;
    if tokens.iter().any(|t| CONTENT_WORDS.contains(&t.as_ref())) {
        w += 25.0;
    }
    // Captions are cut on their own; the figure around them is content.
    if role.is_some_and(|r| r != Role::Caption)
        || tokens.iter().any(|t| matches!(t.as_ref(), "meta" | "media" | "tags" | "contact" | "shop" | "shopping"))
    {
        w -= 25.0;
    }
    w
}

/// ARIA roles and attributes of page chrome.
pub fn is_chrome_aria(role: Option<&str>) -> bool {
    matches!(
        role,
        Some(
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "search"
                | "menu"
                | "menubar"
                | "dialog"
                | "alert"
        )
    )
}

/// Headings that open a comment section ("Comments", "3 Comments", "Leave a Reply", ...),
/// in the languages of the pages we meet most.
pub fn is_comments_heading(text: &str) -> bool {
    let t = text.trim().trim_end_matches([':', '.']).to_lowercase();
    if t.len() > 40 {
        return false;
    }
    let t = t.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '(' || c == ')');
    let t = t.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '(' || c == ')');
    matches!(
        t,
        "comments"
            | "comment"
            | "leave a comment"
            | "leave a reply"
            | "post a comment"
            | "add a comment"
            | "join the discussion"
            | "join the conversation"
            | "discussion"
            | "responses"
            | "reader comments"
            | "kommentare"
            | "kommentar"
            | "kommentieren"
            | "leserkommentare"
            | "commentaires"
            | "commentaire"
            | "laisser un commentaire"
            | "comentarios"
            | "comentários"
            | "commenti"
            | "komentarze"
            | "reacties"
            | "kommentarer"
    )
}

/// Openers of inline cross-links and related-story headings ("ALSO READ: …", "Related",
/// "Mehr zum Thema"), in the languages of the pages we meet most.
const TEASER_OPENERS: &[&str] = &[
    "also read",
    "read also",
    "read more",
    "read next",
    "see also",
    "related:",
    "related articles",
    "related stories",
    "related posts",
    "related content",
    "related",
    "more on this",
    "more from",
    "more stories",
    "most read",
    "most popular",
    "you may also like",
    "you might also like",
    "recommended for you",
    "don't miss",
    "lea también",
    "lea más",
    "lea:",
    "lee también",
    "lee más",
    "te puede interesar",
    "le puede interesar",
    "puedes ver",
    "mira también",
    "ver también",
    "vea también",
    "te recomendamos",
    "leia também",
    "veja também",
    "leggi anche",
    "lire aussi",
    "à lire aussi",
    "a lire aussi",
    "voir aussi",
    "articles les plus lus",
    "sur le même sujet",
    "lesen sie auch",
    "lesen sie mehr",
    "auch interessant",
    "das könnte sie auch interessieren",
    "mehr zum thema",
    "ähnliche themen",
    "ähnliche beiträge",
    "ähnliche artikel",
    "das könnte dich auch interessieren",
    "das thema könnte dich auch interessieren",
    "dies könnte sie auch interessieren",
    "das könnte sie interessieren",
    "you may also be interested",
    "you might also be interested",
    "more from this author",
    "more in",
    "weitere themen",
    "weitere artikel",
    "schon gelesen",
    "weiterlesen",
    "weitere informationen",
    "further reading",
    "more information",
    "articles liés",
    "noticias relacionadas",
    "artículos relacionados",
    "zum thema",
    "czytaj też",
    "czytaj także",
    "czytaj więcej",
    "zobacz też",
    "zobacz także",
    "zobacz również",
    "czytaj również",
    "leggi anche",
    "zie ook",
    "lees ook",
];

/// How many kinds of appeal to the reader a short line makes: follow us there, write to us,
/// support us, join us, sign up for our newsletter. A line at the story's end that makes two
/// is the template's ("Follow us on Twitter and email us at …", "Support our journalism:
/// become a member"). Naming a social network alone counts only beside another appeal, so
/// a story's own last line about a network is safe.
///
/// The groups said, one bit each.
pub fn appeal_groups(text: &str) -> u32 {
    let lower = text.to_lowercase();
    let said = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let addressed = APPEALS.iter().enumerate().filter(|(_, g)| said(g)).fold(0, |m, (k, _)| m | 1 << k);
    if addressed == 0 {
        return 0;
    }
    let social = said(SOCIAL_NETWORKS);
    // Following: a verb of following beside a network ("follow X on Twitter", "seguir a X
    // en Facebook").
    let follows = social && said(FOLLOW_VERBS);
    addressed | u32::from(social) << 30 | u32::from(follows) << 31
}

/// Which kinds of words of a post's closing line of metadata a short line says ("This entry
/// was posted in News and tagged … Bookmark the permalink.", "Aufrufe: 1120 | Hinzugefügt
/// von: … | Tags: …"), one bit each: two make one.
pub fn post_meta_groups(text: &str) -> u32 {
    groups_said(text, POST_META)
}

const POST_META: &[&[&str]] = &[
    // Where it was posted.
    &[
        "this entry was posted",
        "this entry was filed",
        "posted in ",
        "filed under",
        "der beitrag wurde am",
        "dieser beitrag wurde",
        "dieser eintrag wurde",
        "abgelegt unter",
        "publié dans",
        "publicado en",
    ],
    // How to follow it.
    &[
        "permalink",
        "trackback",
        "rss 2.0",
        "responses to this entry",
        "kommentare zu diesen eintrag",
        "kommentare zu diesem eintrag",
        "comments are closed",
        "kommentare sind derzeit geschlossen",
        "kommentare sind geschlossen",
    ],
    // Its tags.
    &["and tagged", "| tagged", "tagged:", "getaggt", "tags:", "schlagwörter", "schlagworte"],
    // Its counters.
    &["aufrufe:", "views:", "hinzugefügt von", "added by", "rating:", "bewertung:"],
];

/// Which kinds of words of an editor's disclaimer a short line says ("The views expressed
/// are the author's and not necessarily ours", "… is not responsible for the opinions of
/// contributors"), one bit each: two make one.
pub fn disclaimer_groups(text: &str) -> u32 {
    groups_said(text, DISCLAIMER)
}

const DISCLAIMER: &[&[&str]] = &[
    // Opinions.
    &["opinion", "views expressed", "meinung", "opinión", "opiniones", "avis de l'auteur", "opinioni"],
    // Not ours.
    &[
        "not necessarily",
        "not responsible",
        "do not reflect",
        "does not reflect",
        "nicht notwendigerweise",
        "nicht unbedingt",
        "nicht verantwortlich",
        "keinesfalls",
        "no necesariamente",
        "no se hace responsable",
        "pas nécessairement",
        "n'engagent que",
        "non necessariamente",
    ],
];

/// Which kinds of words of a cookie notice a short line says ("We use cookies to personalise
/// content and ads… our partners…"), one bit each; without the word "cookie", none.
pub fn cookie_notice_groups(text: &str) -> u32 {
    let mask = groups_said(text, COOKIE_NOTICE);
    if mask & 1 == 0 { 0 } else { mask }
}

const COOKIE_NOTICE: &[&[&str]] = &[
    &["cookie"],
    // We use.
    &[
        "we use",
        "this website uses",
        "this site uses",
        "wir verwenden",
        "verwenden wir",
        "wir nutzen",
        "nutzen wir",
        "diese website verwendet",
        "diese webseite verwendet",
        "utilizamos",
        "usamos",
        "nous utilisons",
        "ce site utilise",
        "utilizziamo",
    ],
    // To what end, and your say.
    &[
        "privacy",
        "datenschutz",
        "consent",
        "zustimm",
        "stimmen sie",
        "einwilligung",
        "akzeptier",
        "accept",
        "aceptar",
        "accepter",
        "personalis",
        "personaliz",
        "analy",
    ],
];

/// The placeholder a page shows instead of an embedded post or video until the reader
/// consents ("We respect your privacy and do not connect to Twitter without your consent",
/// "Ich bin damit einverstanden, dass mir externe Inhalte angezeigt werden…"): it speaks of
/// consent, of the outside content and of privacy, all three.
pub fn is_embed_placeholder(text: &str) -> bool {
    // Most blocks of this length say no word of privacy: that group is read first, and the
    // others only while every group so far is said.
    let lower = text.to_lowercase();
    EMBED_PLACEHOLDER.iter().all(|g| g.iter().any(|w| lower.contains(w)))
}

const EMBED_PLACEHOLDER: &[&[&str]] = &[
    // Privacy.
    &["privatsphäre", "datenschutz", "privacy", "personenbezogene daten", "personal data", "données personnelles"],
    // Consent.
    &[
        "einverstanden",
        "einverständnis",
        "einwilligung",
        "zustimmung",
        "consent",
        "consentement",
        "consentimiento",
        "akzeptieren",
        "accept",
    ],
    // The content from elsewhere.
    &[
        "externe inhalte",
        "externer inhalt",
        "externen inhalt",
        "external content",
        "third-party",
        "third party",
        "drittanbieter",
        "drittplattform",
        "verbindung zu",
        "contenu externe",
        "contenido externo",
        "embedded content",
    ],
];

/// The groups of `groups` that `text` says a word of, one bit each.
fn groups_said(text: &str, groups: &[&[&str]]) -> u32 {
    let lower = text.to_lowercase();
    groups.iter().enumerate().filter(|(_, g)| g.iter().any(|w| lower.contains(w))).fold(0, |m, (k, _)| m | 1 << k)
}

/// Which kinds of words of an advertising disclosure a short line says ("This post contains
/// references to products from our advertisers. We may receive compensation…", "*Werbung.
/// Dieser Beitrag enthält Werbung für …"), one bit each: two make a disclosure.
pub fn disclosure_groups(text: &str) -> u32 {
    groups_said(text, DISCLOSURE)
}

const DISCLOSURE: &[&[&str]] = &[
    // Advertising.
    &["advertiser", "advertising", "werbung", "anzeige", "publicidad", "publicité", "sponsored", "gesponsert"],
    // Being paid.
    &[
        "compensation",
        "commission",
        "we may earn",
        "provision erhält",
        "provision erhalten",
        "vergütung",
        "bezahlte partnerschaft",
        "paid partnership",
        "in freundlicher kooperation",
        "in freundlicher unterstützung",
    ],
    // Links that pay.
    &["affiliate", "partnerlink", "click on links", "links zu anbietern", "enlaces de afiliados", "liens affiliés"],
    // This page holds it.
    &[
        "this post contains",
        "this post may contain",
        "this article contains",
        "this article may contain",
        "this page contains",
        "dieser beitrag enthält",
        "dieser artikel enthält",
        "dieser artikel kann",
        "dieser beitrag kann",
        "dieser beitrag ist in",
        "cet article contient",
        "este artículo contiene",
    ],
];

/// What appeals to readers say, one group per kind of appeal, in the languages we see most.
const APPEALS: &[&[&str]] = &[
    // Write to us.
    &[
        "email us",
        "e-mail us",
        "send us",
        "write to us",
        "contact us",
        "escríbenos",
        "escribirnos",
        "écrivez-nous",
        "schreiben sie uns",
        "schreibt uns",
        "schreib uns",
    ],
    // Support us.
    &[
        "support us",
        "support our",
        "supporting our",
        "supporting us",
        "support journalism",
        "support local journalism",
        "support independent journalism",
        "apóyanos",
        "apoya el",
        "apoya a",
        "unterstützen sie uns",
        "unterstütze uns",
        "soutenez",
        "donate",
        "jetzt spenden",
    ],
    // Join us.
    &[
        "membership",
        "membresía",
        "hazte miembro",
        "become a member",
        "werden sie mitglied",
        "devenez membre",
        "únete",
        "join our",
        "join us",
        "rejoignez",
    ],
    // We depend on you.
    &[
        "your support",
        "we need you",
        "small contribution",
        "deine unterstützung",
        "ihre unterstützung",
        "wir brauchen dich",
        "kleinen beitrag",
        "tu apoyo",
        "te necesitamos",
        "votre soutien",
        "nous avons besoin de vous",
    ],
    // How we are funded.
    &[
        "how we are funded",
        "se financia",
        "wie wir uns finanzieren",
        "werbeeinnahmen",
        "without a paywall",
        "sin muro de pago",
    ],
    // Our newsletter.
    &[
        "our newsletter",
        "newsletter abonnieren",
        "nuestro boletín",
        "nuestra newsletter",
        "notre newsletter",
        "unseren newsletter",
    ],
    // Cancel any time (a membership's terms).
    &["cancel anytime", "cancel any time", "cancela cuando quieras", "jederzeit kündbar", "sans engagement"],
    // Follow us.
    &[
        "follow us",
        "folgen sie uns",
        "folgt uns",
        "folge uns",
        "síguenos",
        "suivez-nous",
        "seguici",
        // "Our YouTube channel": a channel named beside its network.
        "our channel",
        "nuestro canal",
        "unseren kanal",
        "notre chaîne",
    ],
    // What members get.
    &[
        "exclusive benefits",
        "exclusive perks",
        "member benefits",
        "beneficios exclusivos",
        "exklusive vorteile",
        "avantages exclusifs",
    ],
];

const SOCIAL_NETWORKS: &[&str] =
    &["twitter", "facebook", "instagram", "telegram", "whatsapp", "youtube", "tiktok", "linkedin", "mastodon"];

const FOLLOW_VERBS: &[&str] = &["follow", "folgen", "folge", "seguir", "sigue", "suivez", "suivre", "segui"];

/// A line that introduces links to other stories, not part of this one.
pub fn is_teaser(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    TEASER_OPENERS.iter().any(|o| {
        t.strip_prefix(o).is_some_and(|rest| {
            // The opener must stand alone: "Related" but not "Related research shows".
            let rest = rest.trim_start();
            rest.is_empty()
                || rest.starts_with([':', '|', '»', '›', '>', '-', '–', '—', '.', '!', '?'])
                || o.ends_with(':')
        })
    })
}

/// "Advertisement", "Anzeige", "Sponsored" and the like: labels over ads and paid posts.
pub fn is_ad_label(text: &str) -> bool {
    let t = text.trim().trim_matches(['-', '–', '—', ' ', '[', ']', '(', ')', '*']).to_lowercase();
    const LABELS: &[&str] = &[
        "advertisement",
        "advertising",
        "ad",
        "sponsored",
        "sponsored content",
        "paid content",
        "anzeige",
        "werbung",
        "publicidad",
        "publicité",
        "pubblicità",
        "reklama",
        "advertentie",
    ];
    LABELS.contains(&t.as_str())
        || ["anzeige,", "anzeige:", "werbung:", "advertisement:", "sponsored:"].iter().any(|p| t.starts_with(p))
}

/// A reading-time label and nothing else ("5 min read", "Lesezeit: 4 Minuten", "11 minut
/// czytania", "Temps de lecture : 3 min"): a number, a minutes word and a reading word in at
/// most six words.
pub fn is_reading_time(text: &str) -> bool {
    const MINUTES: &[&str] =
        &["min", "mins", "minute", "minutes", "minuten", "minut", "minuty", "minutos", "minuti", "minuut", "minuter"];
    const READING: &[&str] = &[
        "read",
        "reading",
        "lesezeit",
        "lesedauer",
        "lesen",
        "czytania",
        "lectura",
        "lecture",
        "lettura",
        "leestijd",
        "leitura",
        "lästid",
    ];
    let t = text.to_lowercase();
    let words: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(7).collect();
    let number = |w: &str| w.starts_with(|c: char| c.is_ascii_digit());
    // "5min" is a number and a minutes word at once.
    let minutes = |w: &str| MINUTES.contains(&w.trim_start_matches(|c: char| c.is_ascii_digit()));
    words.len() <= 6
        && words.iter().any(|w| number(w))
        && words.iter().any(|w| minutes(w))
        && words.iter().any(|w| READING.contains(w))
}

/// A sign-off is at most this long (characters).
pub const MAX_SIGN_OFF_CHARS: usize = 40;

/// The author's farewell closing a post ("x Lena", "Euer Jonas", "Cheers, Anna", "Liebe
/// Grüße"): a short line of at most four words, no digits, that opens with a sign-off word.
/// It closes the story, not the template.
pub fn is_sign_off(text: &str) -> bool {
    const OPENERS: &[&str] = &[
        "x",
        "xx",
        "xxx",
        "xo",
        "xoxo",
        "love",
        "cheers",
        "yours",
        "hugs",
        "euer",
        "eure",
        "dein",
        "deine",
        "herzlichst",
        "bisous",
        "bises",
        "saludos",
        "abrazos",
        "besos",
        "pozdrawiam",
        "groetjes",
        "baci",
        "ciao",
    ];
    const PHRASES: &[&str] = &[
        "liebe grüße",
        "viele grüße",
        "herzliche grüße",
        "beste grüße",
        "bis bald",
        "take care",
        "all the best",
        "best wishes",
        "best,",
        "un abrazo",
        "gros bisous",
    ];
    let t = text.trim();
    if t.chars().count() > MAX_SIGN_OFF_CHARS || t.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let t = t.to_lowercase();
    let words: Vec<&str> = t.split_whitespace().take(5).collect();
    let first = words.first().map_or("", |w| w.trim_end_matches([',', '!', '.']));
    words.len() <= 4 && (OPENERS.contains(&first) || PHRASES.iter().any(|p| t.starts_with(p)))
}

/// A teaser opener and nothing else ("Auch interessant", "Related:").
pub fn is_teaser_label(text: &str) -> bool {
    let t = text.trim().trim_end_matches([':', '.', '!', '?', ' ']);
    // No label is longer than this (bytes; the longest opener is 41): most lines are not
    // looked at further.
    if t.len() > 64 {
        return false;
    }
    let t = t.to_lowercase();
    !t.is_empty() && TEASER_OPENERS.iter().any(|o| o.strip_suffix(':').unwrap_or(o) == t)
}

/// A line that is only a date or a time ("23.10.2018", "12:40 Uhr", "3:59 PM").
pub fn is_date_only(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    if digits < 3 || t.chars().count() > 30 {
        return false;
    }
    let rest: String = t.replace("uhr", "").replace("am", "").replace("pm", "");
    rest.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '/' | ':' | ',' | '|'))
}

/// Lines opening with a photo-credit label ("Photo: …", "Crédits photos : …"); such a line
/// is a credit wherever it stands.
pub fn has_credit_prefix(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    const STRONG: &[&str] = &[
        "photo:",
        "photos:",
        "photo credit",
        "foto:",
        "fotos:",
        "bild:",
        "crédits photos",
        "crédit photo",
        "titelbild:",
        "bildquelle:",
        "bildnachweis:",
        "image credit",
        "photograph:",
    ];
    STRONG.iter().any(|p| lower.starts_with(p))
}

/// A caption that ends with its photo's credit: "The harbour at dawn. (Photo: Jane Doe)",
/// "Los periodos escolares. Foto: Andina". The credit is the last few words, after a credit
/// label; the line is short.
pub fn ends_with_credit(text: &str) -> bool {
    let t = text.trim().trim_end_matches(')').trim_end();
    if t.is_empty() || t.chars().count() > 250 {
        return false;
    }
    let lower = t.to_lowercase();
    const LABELS: &[&str] =
        &["foto:", "fotos:", "photo:", "photos:", "bild:", "credit:", "image:", "quelle:", "source:", "fuente:", "©"];
    LABELS.iter().any(|label| {
        lower.rfind(label).is_some_and(|at| {
            // The label opens a clause: after "(", " ", "|", "/" or at the start.
            let before = lower[..at].chars().last();
            let opens = before.is_none_or(|c| matches!(c, '(' | ' ' | '|' | '/' | '[' | '–' | '-'));
            // Read in the lowercased text: lowercasing may change a character's length in
            // bytes ("Ⱥ" is two, "ⱥ" three), so `at` is no index into `t`.
            let credit = &lower[at + label.len()..];
            opens && !credit.trim().is_empty() && credit.split_whitespace().count() <= 6 && !credit.contains(". ")
        })
    })
}

/// Short lines that credit a photo: "Photo: Jane Doe", "© Agency", "NAME/AGENCY via Service".
pub fn looks_like_credit(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 120 {
        return false;
    }
    let lower = t.to_lowercase();
    const PREFIXES: &[&str] = &[
        "photo:",
        "photo by",
        "photos:",
        "photograph:",
        "photograph by",
        "image:",
        "image by",
        "images:",
        "picture:",
        "credit:",
        "credits:",
        "source:",
        "foto:",
        "fotos:",
        "bild:",
        "quelle:",
        "illustration:",
        "crédits photos",
        "crédit photo",
        "crédits :",
        "titelbild:",
        "bildquelle:",
        "bildnachweis:",
        "fotocredit:",
        "foto's:",
        "illustration by",
        "video:",
    ];
    if lower.starts_with('©') || lower.starts_with("(c)") || PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // "GREG BAKER/AFP via Getty Images" style: a name, a slash, an agency, no sentence.
    let words = t.split_whitespace().count();
    if words <= 8 && t.contains('/') && !t.contains("://") && !t.ends_with('.') {
        let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        if !letters.is_empty() && (upper * 2 >= letters.len() || lower.contains(" via ")) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(class: &str) -> Option<Role> {
        role_of(&tokens(Some(class), None))
    }

    #[test]
    fn embed_placeholders_speak_of_consent_outside_content_and_privacy() {
        assert!(is_embed_placeholder(
            "Wir achten deine Privatsphäre: ohne dein Einverständnis stellen wir keine Verbindung zu Instagram her."
        ));
        assert!(is_embed_placeholder(
            "I consent to external content being shown. Personal data may be passed to third-party platforms."
        ));
        // A story about consent and privacy names no content from elsewhere.
        assert!(!is_embed_placeholder("The court ruled that consent must be given before personal data is shared."));
    }

    #[test]
    fn post_metadata_and_cookie_notices_by_their_words() {
        assert_eq!(post_meta_groups("This entry was posted in News. Bookmark the permalink.").count_ones(), 2);
        assert_eq!(
            post_meta_groups("He posted in the forum that the permit had been tagged as urgent.").count_ones(),
            1
        );
        assert_eq!(cookie_notice_groups("We use cookies to analyse traffic; accept or decline.").count_ones(), 3);
        assert_eq!(disclaimer_groups("The views expressed are not necessarily ours.").count_ones(), 2);
        assert_eq!(disclaimer_groups("In her opinion, the vote was fair.").count_ones(), 1);
        // Without the word, no cookie notice; a story about cookies says one.
        assert_eq!(cookie_notice_groups("We use your data to analyse traffic."), 0);
        assert_eq!(cookie_notice_groups("The bakery sold cookies at the fair.").count_ones(), 1);
    }

    #[test]
    fn disclosures_need_two_kinds_of_words() {
        let kinds = |t: &str| disclosure_groups(t).count_ones();
        assert_eq!(kinds("This post contains references to products from our advertisers."), 2);
        assert_eq!(kinds("*Werbung. Dieser Beitrag enthält Werbung für eine Bademodenmarke."), 2);
        // A story about advertising, or about a commission, says one.
        assert_eq!(kinds("The advertising market shrank by a tenth last year."), 1);
        assert_eq!(kinds("The commission will publish its report in May."), 1);
    }

    #[test]
    fn appeals_to_the_reader_are_counted_by_kind() {
        let kinds = |t: &str| appeal_groups(t).count_ones();
        assert_eq!(kinds("Follow us on Twitter and email us at desk@paper.example."), 4);
        assert_eq!(kinds("Puede escribirnos o seguir a la redacción en Facebook."), 3);
        assert_eq!(kinds("Support our journalism: become a member."), 2);
        assert_eq!(kinds("¡Visita nuestro canal de YouTube!"), 2);
        assert_eq!(kinds("Hazte miembro hoy: beneficios exclusivos cada mes"), 2);
        assert_eq!(kinds("If you enjoyed this post, would you consider supporting our work?"), 1);
        // A channel without its network is a story's (a TV channel, a canal).
        assert_eq!(kinds("The Panama Canal authority said our channel is deep enough."), 1);
        // A story's own line about networks appeals to no one.
        assert_eq!(kinds("Passengers had complained on Facebook and Twitter, and many follow the case."), 0);
        assert_eq!(kinds("The union asked members to support the strike."), 0);
    }

    #[test]
    fn tokens_split_case_and_separators() {
        assert_eq!(
            tokens(Some("relatedPosts__item  share-bar"), Some("x_y")),
            vec!["related", "posts", "item", "share", "bar", "x", "y"]
        );
    }

    #[test]
    fn roles_from_vocabulary() {
        assert_eq!(role("comments-area"), Some(Role::Comments));
        // A match commentary's entries are the story of a live ticker.
        assert_eq!(role("live-match-comment"), None);
        assert_eq!(role("ticker-comment"), None);
        assert_eq!(role("commentary-body"), None);
        assert_eq!(role("post type-post comments-open"), None);
        assert_eq!(role("wp-caption-text"), Some(Role::Caption));
        assert_eq!(role("image-credit"), Some(Role::Caption));
        assert_eq!(role("social-share"), Some(Role::Chrome));
        assert_eq!(role("most-read-list"), Some(Role::Chrome));
        assert_eq!(role("article-body"), None);
        assert_eq!(role("headline"), None);
        assert_eq!(role("shadow"), None);
    }

    #[test]
    fn captions_ending_with_their_credit() {
        assert!(ends_with_credit("The pier at dawn, before the storm. (Photo: Jane Doe)"));
        assert!(ends_with_credit("Los periodos escolares son tres. Foto: Andina"));
        assert!(ends_with_credit("Der Hafen im Winter. Bild: Archiv / Hafenamt"));
        assert!(ends_with_credit("Cadets at the airfield before their first flight. © Northern Agency"));
        assert!(!ends_with_credit("© 2026 The Harbour Post. All rights reserved."));
        assert!(!ends_with_credit("Text and pictures ©"));
        assert!(!ends_with_credit(
            "The photo: a study of light, written over three pages, with notes. And more to say here."
        ));
        assert!(!ends_with_credit(
            "We asked the council for a source: none came forward before the vote, officials said."
        ));
        assert!(!ends_with_credit(&format!("{} (Photo: Jane Doe)", "word ".repeat(60))));
        // Letters whose lowercase is longer in bytes ("Ⱥ" two, "ⱥ" three) before the label: the
        // label's place in the lowercased text is no place in the original (it was sliced
        // there, inside a character: a panic).
        assert!(ends_with_credit("ȺȺ harbour at dawn. © Jane Doe"));
        assert!(!ends_with_credit("Ⱥ©¡"));
    }

    #[test]
    fn comment_headings_and_credits() {
        assert!(is_comments_heading("COMMENTS"));
        assert!(is_comments_heading("12 Comments"));
        assert!(is_comments_heading("Leave a Reply"));
        assert!(!is_comments_heading("Comments by the minister drew criticism"));
        assert!(looks_like_credit("GREG BAKER/AFP via Getty Images"));
        assert!(looks_like_credit("Photo: Jane Doe"));
        assert!(looks_like_credit("© Reuters"));
        assert!(!looks_like_credit("The minister said on Monday that the plan would go ahead."));
        assert!(!looks_like_credit("and/or"));
        assert!(is_teaser("ALSO READ: Coastguard drill tests new radios"));
        assert!(is_teaser("Lesen Sie auch: Neue Regeln"));
        assert!(is_teaser("À lire aussi : Le parking devient payant"));
        assert!(is_teaser("Related"));
        assert!(is_ad_label("- Anzeige -"));
        assert!(is_teaser_label("Auch interessant:"));
        assert!(!is_teaser_label("Auch interessant ist die Frage, wer zahlt."));
        assert!(is_date_only("23.10.2018"));
        assert!(is_date_only("3:59 PM"));
        assert!(!is_date_only("In 2018 there were 3 of them."));
        assert!(has_credit_prefix("Crédits photos : Agence du Sud"));
        assert!(is_ad_label("ADVERTISEMENT"));
        assert!(!is_ad_label("Advertisement spending fell by a third in 2024."));
        assert!(!is_teaser("Related research shows that tides are changing."));
        assert!(!is_teaser("Read more carefully, the report says otherwise."));
    }

    #[test]
    fn reading_time_labels() {
        for label in ["5 min read", "Lesezeit: 4 Minuten", "11 minut czytania", "Temps de lecture : 3 min", "8min read"]
        {
            assert!(is_reading_time(label), "{label}");
        }
        // A short line of a story that speaks of reading and minutes has more words, or no number.
        assert!(!is_reading_time("It took me 5 minutes to read the whole report."));
        assert!(!is_reading_time("Read for a few minutes"));
        assert!(!is_reading_time("5 minutes"));
    }

    #[test]
    fn sign_offs() {
        for line in ["x Lena", "Euer Jonas", "xx, das Team", "Cheers, Anna", "Liebe Grüße, Mia", "Love", "Best, Tom"]
        {
            assert!(is_sign_off(line), "{line}");
        }
        // Template lines after a story: agency initials, labels, links, and longer sentences.
        for line in [
            "aja/PAP",
            "Next Page",
            "Best Buy deals",
            "Love Island: the final in pictures",
            "x 2",
            "Bilder vom Sommerfest",
        ] {
            assert!(!is_sign_off(line), "{line}");
        }
    }
}
