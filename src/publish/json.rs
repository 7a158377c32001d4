//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).

use serde_json::{Map, Value, json};

use super::{OutFeed, xml_text};

pub fn to_json_feed(feed: &OutFeed) -> String {
    let items: Vec<Value> = feed
        .items
        .iter()
        .map(|it| {
            let mut item = Map::new();
            item.insert("id".into(), json!(it.guid));
            if let Some(url) = &it.url {
                item.insert("url".into(), json!(url));
            }
            item.insert("title".into(), json!(xml_text(&it.title)));
            item.insert("content_html".into(), json!(xml_text(&it.html)));
            item.insert("summary".into(), json!(xml_text(&it.summary)));
            item.insert("date_published".into(), json!(crate::dates::rfc3339(it.published)));
            if let Some(updated) = it.updated {
                item.insert("date_modified".into(), json!(crate::dates::rfc3339(updated)));
            }
            if let Some(author) = &it.author {
                item.insert("authors".into(), json!([{ "name": xml_text(author) }]));
            }
            if !it.categories.is_empty() {
                item.insert("tags".into(), json!(it.categories));
            }
            if let Some(image) = &it.image {
                item.insert("image".into(), json!(image));
            }
            if let Some(language) = &it.language {
                item.insert("language".into(), json!(language));
            }
            if let Some(source) = &it.source {
                // JSON Feed has no source field: an extension (names starting with "_").
                item.insert(
                    "_refeed".into(),
                    json!({ "source": { "title": xml_text(&source.title), "feed_url": source.url } }),
                );
            }
            if !it.enclosures.is_empty() {
                let attachments: Vec<Value> = it
                    .enclosures
                    .iter()
                    .map(|e| {
                        let mut a = Map::new();
                        a.insert("url".into(), json!(e.url));
                        a.insert(
                            "mime_type".into(),
                            json!(e.mime_type.as_deref().unwrap_or("application/octet-stream")),
                        );
                        if let Some(len) = e.length {
                            a.insert("size_in_bytes".into(), json!(len));
                        }
                        Value::Object(a)
                    })
                    .collect();
                item.insert("attachments".into(), Value::Array(attachments));
            }
            Value::Object(item)
        })
        .collect();
    let mut root = Map::new();
    root.insert("version".into(), json!("https://jsonfeed.org/version/1.1"));
    root.insert("title".into(), json!(xml_text(&feed.title)));
    if let Some(site) = &feed.site_url {
        root.insert("home_page_url".into(), json!(site));
    }
    if let Some(self_url) = feed.self_url(super::Format::Json) {
        root.insert("feed_url".into(), json!(self_url));
    }
    if let Some(d) = &feed.description {
        root.insert("description".into(), json!(xml_text(d)));
    }
    root.insert("items".into(), Value::Array(items));
    let mut out = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    out.push('\n');
    out
}
