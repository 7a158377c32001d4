//! Page extraction + sanitizing: never a panic, and the published HTML is a fixed point of the
//! sanitizer (cleaning it again changes nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = refeed::fetch::charset::decode_html(data, None).text;
    let base = url::Url::parse("https://fuzz.example/a/page.html").unwrap();
    let article = refeed::extract::article(&html, Some(&base), &refeed::extract::Options::default());
    let again = refeed::sanitize::clean_html(&article.html, Some(&base));
    assert_eq!(again, article.html, "sanitizer not idempotent on published HTML");
    let lower = article.html.to_ascii_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("javascript:"), "{}", article.html);
});
