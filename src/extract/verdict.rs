//! Is what the extractor found an article? A page can answer 200 and still not be the story:
//! a cookie-consent wall, a bot challenge, a login or paywall teaser, an error page. Those are
//! recognised by what they say and how little else they say; the feed's own text is then worth
//! more than the page's, and the page is tried again later.
//!
//! General vocabulary only (what such pages say everywhere), never a site's or a page's own
//! words. Linear in the article's text.

use super::Article;

/// Why an extraction is not the article, or `None` when it may well be.
pub fn not_an_article(article: &Article, feed_text_chars: usize) -> Option<String> {
    let text = article.text.trim();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if chars == 0 {
        return Some("nothing was extracted".into());
    }
    let lower = text.to_lowercase();
    let title = article.title.as_deref().unwrap_or("").to_lowercase();
    let said = |words: &[&str]| words.iter().filter(|w| lower.contains(*w) || title.contains(*w)).count();
    // Groups of words that say one thing: a group counts once.
    let groups_said =
        |groups: &[&[&str]]| groups.iter().filter(|g| g.iter().any(|w| lower.contains(w) || title.contains(w))).count();
    if chars < 1_500 && said(CHALLENGE) >= 1 {
        return Some("a bot challenge page (\"checking your browser\")".into());
    }
    if chars < 3_000 && said(CONSENT) >= 3 {
        return Some("a cookie-consent wall".into());
    }
    if chars < 1_200 && (said(ERROR_TITLE) >= 1 && ERROR_TITLE.iter().any(|w| title.contains(w)) || said(ERROR) >= 1) {
        return Some("an error page (served with 200 OK)".into());
    }
    // The extractor cuts a paywall's notice from the story's end: said there, it counts.
    if chars < 1_500 && (groups_said(PAYWALL) >= 2 || article.paywall_notice) {
        return Some("a login or paywall teaser".into());
    }
    // Much less than the feed itself carries: the page held back the story.
    if feed_text_chars >= 500 && chars * 2 < feed_text_chars {
        return Some(format!("{chars} characters, shorter than the feed's own text ({feed_text_chars})"));
    }
    None
}

/// What bot challenges and browser checks say.
const CHALLENGE: &[&str] = &[
    "just a moment...",
    "checking your browser",
    "checking if the site connection is secure",
    "enable javascript and cookies to continue",
    "verify you are human",
    "verifying you are human",
    "are you a robot",
    "attention required!",
    "ddos protection by",
    "please complete the security check",
    "press & hold to confirm you are a human",
];

/// What consent walls say; three of them in a short text make one.
const CONSENT: &[&str] = &[
    "cookie",
    "consent",
    "accept all",
    "reject all",
    "manage preferences",
    "manage your preferences",
    "privacy policy",
    "our partners",
    "legitimate interest",
    "personal data",
    "vendors",
    "store and/or access information on a device",
    "akzeptieren",
    "einwilligung",
    "accepter",
    "aceptar",
];

/// Titles of error pages (a bare "404" is not one: "Flight 404 lands safely").
const ERROR_TITLE: &[&str] = &[
    "not found",
    "page not found",
    "404 error",
    "error 404",
    "404 not found",
    "error 500",
    "server error",
    "page unavailable",
    "410 gone",
];

/// What error pages say in their text.
const ERROR: &[&str] = &[
    "page not found",
    "the page you requested could not be found",
    "the page you are looking for",
    "this page doesn't exist",
    "this page does not exist",
    "no longer available",
    "404 error",
    "error 404",
];

/// What a line pressing the publisher's app says ("download our app for iOS and Android").
pub fn is_app_promo(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["app store", "google play", "ios and android", "android and ios", "download our app", "download the app"]
        .iter()
        .any(|w| lower.contains(w))
        || lower.contains("download") && lower.contains(" apps")
}

/// The [`PAYWALL`] groups `text` speaks of, one bit each.
pub fn paywall_groups(text: &str) -> u32 {
    let lower = text.to_lowercase();
    PAYWALL.iter().enumerate().filter(|(_, g)| g.iter().any(|w| lower.contains(w))).fold(0, |m, (k, _)| m | 1 << k)
}

/// What login walls and paywall teasers say, by what they ask; two of them in a short text
/// make one.
const PAYWALL: &[&[&str]] = &[
    &["subscribe", "subscription", "subscriber"],
    &["sign in", "log in", "login"],
    &["create an account", "create a free account", "register to continue", "already have an account"],
    &[
        "to continue reading",
        "continue reading with",
        "read the full story",
        "for the full story",
        "read the full article",
    ],
    &["members only", "premium", "paywall", "free trial"],
];

#[cfg(test)]
mod tests {
    use super::*;

    fn article(title: &str, text: &str) -> Article {
        Article { title: Some(title.into()), text: text.into(), ..Article::default() }
    }

    const STORY: &str = "The council declined on Monday to endorse the proposed road bridge across the inner \
        harbour, saying it would wait for an independent review of the costs before taking a position. At a \
        public session that ran for more than three hours, councillors asked why the estimate had risen.";

    #[test]
    fn a_story_is_an_article() {
        assert_eq!(not_an_article(&article("Bridge vote", STORY), 0), None);
        // A number in the title is not an error code (found by the scale benchmark).
        assert_eq!(not_an_article(&article("Story 404-6", &STORY[..200]), 0), None);
        assert_eq!(not_an_article(&article("Flight 404 lands safely", &STORY[..200]), 0), None);
        // Even one that mentions subscriptions and cookies once.
        let text = format!("{STORY} Subscribers can read the report; the bakery sold cookies.");
        assert_eq!(not_an_article(&article("Bridge vote", &text), 200), None);
    }

    #[test]
    fn walls_challenges_teasers_and_error_pages_are_not() {
        let cases = [
            ("Just a moment...", "Enable JavaScript and cookies to continue", "a bot challenge page"),
            (
                "Before you continue",
                "We and our partners use cookies to store and/or access information on a device. \
                 Accept all or manage preferences. See our privacy policy.",
                "a cookie-consent wall",
            ),
            ("Page not found", "Sorry, we looked everywhere. Go back home.", "an error page"),
            (
                "Bridge vote",
                "The council declined on Monday. Subscribe to continue reading. Already have an account? Sign in.",
                "a login or paywall teaser",
            ),
            ("Bridge vote", "", "nothing was extracted"),
        ];
        for (title, text, why) in cases {
            let verdict = not_an_article(&article(title, text), 0);
            assert!(verdict.as_deref().is_some_and(|v| v.starts_with(why)), "{title}: {verdict:?}");
        }
        assert_eq!(
            not_an_article(&article("Bridge vote", &STORY[..120]), 1_000).as_deref(),
            Some("100 characters, shorter than the feed's own text (1000)")
        );
    }
}
