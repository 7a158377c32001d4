//! Atom 1.0 with `type="html"` content and a text summary.

use atom_syndication::{Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};

use super::{OutFeed, xml_text};

fn fixed(t: chrono::DateTime<chrono::Utc>) -> FixedDateTime {
    crate::dates::clamped(t).fixed_offset()
}

/// Atom ids must be IRIs: a GUID that is not one becomes a `urn:` built from its hash.
fn atom_id(feed_name: &str, guid: &str) -> String {
    let is_iri =
        url::Url::parse(guid).is_ok_and(|u| !u.cannot_be_a_base() || u.scheme() == "urn" || u.scheme() == "tag");
    if is_iri { xml_text(guid) } else { format!("urn:refeed:{feed_name}:{:016x}", crate::feed::fnv1a(guid.as_bytes())) }
}

pub fn to_atom(feed: &OutFeed) -> String {
    let entries: Vec<Entry> = feed
        .items
        .iter()
        .map(|it| {
            let mut e = Entry::default();
            e.set_id(atom_id(&feed.name, &it.guid));
            e.set_title(Text::plain(xml_text(&it.title)));
            e.set_updated(fixed(it.updated.unwrap_or(it.published)));
            e.set_published(Some(fixed(it.published)));
            let mut links = Vec::new();
            if let Some(url) = &it.url {
                let mut l = Link::default();
                l.set_href(url.clone());
                l.set_rel("alternate");
                links.push(l);
            }
            for enc in &it.enclosures {
                let mut l = Link::default();
                l.set_href(enc.url.clone());
                l.set_rel("enclosure");
                l.set_mime_type(enc.mime_type.clone());
                l.set_length(enc.length.map(|n| n.to_string()));
                links.push(l);
            }
            e.set_links(links);
            if let Some(author) = &it.author {
                e.set_authors(vec![Person { name: xml_text(author), ..Person::default() }]);
            }
            if let Some(source) = &it.source {
                let mut from = atom_syndication::Source::default();
                from.set_id(xml_text(&source.url));
                from.set_title(Text::plain(xml_text(&source.title)));
                let mut link = Link::default();
                link.set_href(source.url.clone());
                link.set_rel("self");
                from.set_links(vec![link]);
                e.set_source(Some(from));
            }
            e.set_categories(
                it.categories
                    .iter()
                    .map(|c| {
                        let mut cat = Category::default();
                        cat.set_term(xml_text(c));
                        cat
                    })
                    .collect::<Vec<_>>(),
            );
            if let Some(image) = &it.image {
                let mut thumbnail =
                    atom_syndication::extension::Extension { name: "media:thumbnail".into(), ..Default::default() };
                thumbnail.attrs.insert("url".into(), xml_text(image));
                let mut media = std::collections::BTreeMap::new();
                media.insert("thumbnail".to_owned(), vec![thumbnail]);
                let mut map = atom_syndication::extension::ExtensionMap::default();
                map.insert("media".to_owned(), media);
                e.set_extensions(map);
            }
            e.set_summary(Some(Text::plain(xml_text(&it.summary))));
            let mut content = Content::default();
            content.set_content_type(Some("html".to_string()));
            content.set_value(Some(xml_text(&it.html)));
            e.set_content(Some(content));
            e
        })
        .collect();
    let mut f = Feed::default();
    if feed.items.iter().any(|i| i.image.is_some()) {
        f.set_namespaces(
            [("media".to_owned(), super::MEDIA_NS.to_owned())]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        );
    }
    f.set_title(Text::plain(xml_text(&feed.title)));
    f.set_id(feed.self_url(super::Format::Atom).unwrap_or_else(|| format!("urn:refeed:{}", feed.name)));
    f.set_updated(fixed(feed.updated));
    f.set_subtitle(feed.description.as_deref().map(|d| Text::plain(xml_text(d))));
    let mut links = Vec::new();
    if let Some(site) = &feed.site_url {
        let mut l = Link::default();
        l.set_href(site.clone());
        l.set_rel("alternate");
        links.push(l);
    }
    if let Some(self_url) = feed.self_url(super::Format::Atom) {
        let mut l = Link::default();
        l.set_href(self_url);
        l.set_rel("self");
        l.set_mime_type(Some("application/atom+xml".to_string()));
        links.push(l);
    }
    f.set_links(links);
    f.set_generator(Some(Generator {
        value: "refeed".into(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    }));
    f.set_entries(entries);
    f.to_string()
}
