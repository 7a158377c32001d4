//! Page extraction + sanitizing: never a panic, the parser's budget (elements, attributes,
//! depth, CPU time) either holds or refuses the page with a reason, never by crashing inside
//! html5ever; the published HTML is a fixed point of the sanitizer (cleaning it again changes
//! nothing), and it holds no script, no event handler and no URL other than http(s) and
//! mailto. (Text that reads "javascript:" is only text.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use refeed::html::{Deadline, HtmlError};

fuzz_target!(|data: &[u8]| {
    let html = refeed::fetch::charset::decode_html(data, None).text;
    // The budget itself: an abandoned parse must be a budget error, never a crash.
    match refeed::html::parse_document(&html, &Deadline::start(std::time::Duration::from_secs(2))) {
        Err(HtmlError::Crashed(why)) => panic!("html5ever crashed under the budget: {why}"),
        _ => {}
    }
    let base = url::Url::parse("https://fuzz.example/a/page.html").unwrap();
    let options = refeed::extract::Options { cpu_limit: std::time::Duration::from_secs(2), ..Default::default() };
    let article = match refeed::extract::article(&html, Some(&base), &options) {
        Ok(article) => article,
        Err(HtmlError::Crashed(why)) => panic!("extraction crashed: {why}"),
        Err(_) => return,
    };
    let again = refeed::sanitize::clean_html(&article.html, Some(&base));
    assert_eq!(again, article.html, "sanitizer not idempotent on published HTML");
    let doc = scraper::Html::parse_fragment(&article.html);
    for node in doc.tree.nodes() {
        let Some(e) = node.value().as_element() else { continue };
        assert!(!matches!(e.name(), "script" | "style" | "iframe" | "object" | "embed" | "svg" | "math" | "form" | "base" | "meta"), "<{}> in {}", e.name(), article.html);
        for (name, value) in e.attrs() {
            assert!(!name.to_ascii_lowercase().starts_with("on"), "{name} in {}", article.html);
            if matches!(name, "href" | "src" | "cite") {
                let v = value.trim().to_ascii_lowercase();
                assert!(v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:"), "{name}={value}");
            }
        }
    }
});
