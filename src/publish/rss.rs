//! RSS 2.0 with `content:encoded` (full HTML) and a plain-text `description`.

use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Item};

use super::{OutFeed, xml_text};

pub fn to_rss(feed: &OutFeed) -> String {
    let items: Vec<Item> = feed
        .items
        .iter()
        .map(|it| {
            let mut item = Item::default();
            item.set_title(xml_text(&it.title));
            item.set_link(it.url.clone());
            item.set_description(xml_text(&it.summary));
            item.set_content(xml_text(&it.html));
            // A GUID is a permalink only when it is the article's own URL.
            let permalink = it.url.as_deref() == Some(it.guid.as_str());
            item.set_guid(Guid { value: xml_text(&it.guid), permalink });
            item.set_pub_date(it.published.to_rfc2822());
            item.set_categories(
                it.categories.iter().map(|c| Category { name: xml_text(c), domain: None }).collect::<Vec<_>>(),
            );
            if let Some(e) = it.enclosures.first() {
                item.set_enclosure(Enclosure {
                    url: e.url.clone(),
                    length: e.length.unwrap_or(0).to_string(),
                    mime_type: e.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                });
            }
            if let Some(author) = &it.author {
                // <author> must be an e-mail address in RSS 2.0; names go in dc:creator.
                let mut dc = DublinCoreExtension::default();
                dc.set_creators(vec![xml_text(author)]);
                item.set_dublin_core_ext(dc);
            }
            item
        })
        .collect();
    let mut channel = Channel::default();
    channel.set_title(xml_text(&feed.title));
    channel.set_link(feed.site_url.clone().or_else(|| feed.self_url("xml")).unwrap_or_default());
    channel.set_description(xml_text(feed.description.as_deref().unwrap_or(&feed.title)));
    channel.set_last_build_date(feed.updated.to_rfc2822());
    channel.set_generator(format!("refeed {}", env!("CARGO_PKG_VERSION")));
    if let Some(self_url) = feed.self_url("xml") {
        let mut link = rss::extension::atom::Link::default();
        link.set_href(self_url);
        link.set_rel("self");
        link.set_mime_type("application/rss+xml".to_string());
        let mut ext = rss::extension::atom::AtomExtension::default();
        ext.set_links(vec![link]);
        channel.set_atom_ext(ext);
    }
    channel.set_items(items);
    channel.to_string()
}
