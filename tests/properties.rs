//! Properties of the extractor and the sanitizer on generated input: no panic, ever, and no
//! script, event handler or dangerous URL in anything we would republish.

use proptest::prelude::*;

/// Pieces of hostile and ordinary markup, glued together at random: unbalanced tags, script
/// in every disguise, event handlers, `javascript:` and `data:` URLs, SVG and MathML.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<div class=\"comments\">".to_string()),
        Just("<div class=\"article-body\">".to_string()),
        Just("</div>".to_string()),
        Just("<article>".to_string()),
        Just("<figure><img src=x><figcaption>Photo: A/B</figcaption></figure>".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("<SCRIPT SRC=//evil.example/x.js></SCRIPT>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("<a href=\"javascript:alert(1)\">x</a>".to_string()),
        Just("<a href=\"jav&#x09;ascript:alert(1)\">x</a>".to_string()),
        Just("<a href=\" JaVaScRiPt:alert(1)\">x</a>".to_string()),
        Just("<iframe src=\"data:text/html,<script>alert(1)</script>\"></iframe>".to_string()),
        Just("<svg><script>alert(1)</script><a xlink:href=\"javascript:alert(1)\">x</a></svg>".to_string()),
        Just("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>".to_string()),
        Just("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">".to_string()),
        Just("<base href=\"javascript:alert(1)//\">".to_string()),
        Just("<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">".to_string()),
        Just("<p style=\"background:url(javascript:alert(1))\">styled</p>".to_string()),
        Just("<div style=\"width: expression(alert(1))\">x</div>".to_string()),
        Just("<object data=\"x.swf\"></object><embed src=x>".to_string()),
        Just(
            "<form action=\"javascript:alert(1)\"><button formaction=javascript:alert(1)>b</button></form>".to_string()
        ),
        Just("<li><select><li>".to_string()),
        Just("<table><tr><td>cell".to_string()),
        Just("<!-- comment --><![CDATA[x]]>".to_string()),
        "[a-zA-Z ,.]{0,80}".prop_map(|t| format!("<p>{t}</p>")),
        "[\\PC]{0,40}",
    ]
}

fn page() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|parts| format!("<html><body>{}</body></html>", parts.concat()))
}

/// What must never reach a reader.
fn assert_safe(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "vbscript:",
        "<iframe",
        "<object",
        "<embed",
        "<style",
        "<base",
        "<meta",
        "<form",
        "expression(",
        "<svg",
        "<math",
    ] {
        assert!(!lower.contains(bad), "{bad:?} survived in {html}");
    }
    // No event-handler attribute: ammonia keeps only the attributes we allow, none of them on*.
    let doc = scraper::Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        if let Some(e) = node.value().as_element() {
            for (name, value) in e.attrs() {
                assert!(!name.to_ascii_lowercase().starts_with("on"), "event handler {name} in {html}");
                if matches!(name, "href" | "src") {
                    let v = value.trim().to_ascii_lowercase();
                    assert!(
                        v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:"),
                        "{name}={value} in {html}"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn extraction_never_panics_and_publishes_only_safe_html(html in page()) {
        let base = url::Url::parse("https://news.example/a/story.html").unwrap();
        let article = refeed::extract::article(&html, Some(&base), &refeed::extract::Options::default()).expect("within budget");
        assert_safe(&article.html);
    }

    #[test]
    fn sanitizer_output_is_safe_and_stable(html in page()) {
        let base = url::Url::parse("https://news.example/a/").unwrap();
        let once = refeed::sanitize::clean_html(&html, Some(&base));
        assert_safe(&once);
        // What we publish is a fixed point: sanitizing it again changes nothing.
        let twice = refeed::sanitize::clean_html(&once, Some(&base));
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let text = refeed::fetch::charset::decode_html(&bytes, None).text;
        let article = refeed::extract::article(&text, None, &refeed::extract::Options::default()).expect("within budget");
        assert_safe(&article.html);
    }
}
