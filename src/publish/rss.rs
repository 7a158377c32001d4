//! RSS 2.0 with `content:encoded` (full HTML) and a plain-text `description`.

use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Item};

use super::{OutFeed, xml_text};

/// `<media:thumbnail url="…"/>` for an entry's picture.
fn media_extensions(url: &str) -> rss::extension::ExtensionMap {
    let mut thumbnail = rss::extension::Extension { name: "media:thumbnail".into(), ..Default::default() };
    thumbnail.attrs.insert("url".into(), xml_text(url));
    let mut media = std::collections::BTreeMap::new();
    media.insert("thumbnail".to_owned(), vec![thumbnail]);
    let mut map = rss::extension::ExtensionMap::default();
    map.insert("media".to_owned(), media);
    map
}

/// A plain-text title, author or category for RSS, where most readers decode the text once
/// more as HTML: text that would read as markup or as a character reference there is escaped
/// for it (`History of the <blink> tag` must not become a tag); other text is left alone, so
/// that "Fish & Chips" reads the same in readers that take the title as plain text.
fn html_text(s: &str) -> String {
    let s = xml_text(s);
    let looks_like_reference = |i: usize| {
        let rest = &s[i + 1..];
        let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'#').count();
        name_len > 0 && rest[name_len..].starts_with(';')
    };
    if s.contains(['<', '>']) || s.match_indices('&').any(|(i, _)| looks_like_reference(i)) {
        crate::sanitize::escape(&s)
    } else {
        s
    }
}

pub fn to_rss(feed: &OutFeed) -> String {
    let items: Vec<Item> = feed
        .items
        .iter()
        .map(|it| {
            let mut item = Item::default();
            item.set_title(html_text(&it.title));
            item.set_link(it.url.clone());
            // Readers render an RSS description as HTML: the plain summary is escaped, so that
            // text showing markup stays text (and cannot close a CDATA section).
            item.set_description(crate::sanitize::escape(&xml_text(&it.summary)));
            item.set_content(xml_text(&it.html));
            // A GUID is a permalink only when it is the article's own URL.
            let permalink = it.url.as_deref() == Some(it.guid.as_str());
            item.set_guid(Guid { value: xml_text(&it.guid), permalink });
            item.set_pub_date(crate::dates::rfc2822(it.published));
            item.set_categories(
                it.categories.iter().map(|c| Category { name: html_text(c), domain: None }).collect::<Vec<_>>(),
            );
            if let Some(e) = it.enclosures.first() {
                item.set_enclosure(Enclosure {
                    url: e.url.clone(),
                    length: e.length.unwrap_or(0).to_string(),
                    mime_type: e.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                });
            }
            if let Some(image) = &it.image {
                item.set_extensions(media_extensions(image));
            }
            if let Some(source) = &it.source {
                item.set_source(rss::Source { url: source.url.clone(), title: Some(html_text(&source.title)) });
            }
            if let Some(author) = &it.author {
                // <author> must be an e-mail address in RSS 2.0; names go in dc:creator.
                let mut dc = DublinCoreExtension::default();
                dc.set_creators(vec![html_text(author)]);
                item.set_dublin_core_ext(dc);
            }
            item
        })
        .collect();
    let mut channel = Channel::default();
    channel.set_title(xml_text(&feed.title));
    channel.set_link(feed.site_url.clone().or_else(|| feed.self_url(super::Format::Rss)).unwrap_or_default());
    channel.set_description(xml_text(feed.description.as_deref().unwrap_or(&feed.title)));
    channel.set_last_build_date(crate::dates::rfc2822(feed.updated));
    channel.set_generator(format!("refeed {}", env!("CARGO_PKG_VERSION")));
    if let Some(self_url) = feed.self_url(super::Format::Rss) {
        let mut link = rss::extension::atom::Link::default();
        link.set_href(self_url);
        link.set_rel("self");
        link.set_mime_type("application/rss+xml".to_string());
        let mut ext = rss::extension::atom::AtomExtension::default();
        ext.set_links(vec![link]);
        channel.set_atom_ext(ext);
    }
    if feed.items.iter().any(|i| i.image.is_some()) {
        channel.set_namespaces(
            [("media".to_owned(), super::MEDIA_NS.to_owned())]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        );
    }
    channel.set_items(items);
    channel.to_string()
}
