//! JSON Feed 1.0 and 1.1 (with `http://` or `https://` in its version), read item by item: a
//! document of millions of items holds no more than the newest `max_entries` in memory.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use url::Url;

use super::{Entry, Feed, FeedError, Limits, Newest, push_category, push_enclosure, resolve};
use crate::html::Deadline;

pub fn parse(body: &str, url: &Url, limits: Limits) -> Result<Feed, FeedError> {
    let deadline = Deadline::start(limits.cpu_limit);
    let mut top = Top { url, newest: Newest::new(limits.max_entries), deadline, ..Top::default_for(url) };
    let mut de = serde_json::Deserializer::from_str(body);
    let result = (&mut top).deserialize(&mut de);
    if let Some(e) = top.out_of_time.take() {
        return Err(FeedError::Budget(e));
    }
    result.map_err(|e| FeedError::Invalid(format!("JSON: {e}")))?;
    let is_feed = top.version.as_deref().is_some_and(|v| v.contains("jsonfeed.org/version/")) || top.items_found > 0;
    if !is_feed {
        return Err(FeedError::Invalid("JSON that is not a JSON Feed (no version, no items)".into()));
    }
    let (entries, dropped) = top.newest.finish();
    let mut problems = Vec::new();
    if top.version.as_deref().is_some_and(|v| v.starts_with("http://")) {
        problems.push("JSON Feed version written with http://".into());
    }
    Ok(Feed {
        title: top.title,
        site_url: top.home_page_url.as_deref().and_then(|h| resolve(url, h)),
        description: top.description,
        language: top.language,
        entries,
        items_found: top.items_found,
        dropped,
        problems,
    })
}

struct Top<'a> {
    url: &'a Url,
    version: Option<String>,
    title: Option<String>,
    home_page_url: Option<String>,
    description: Option<String>,
    language: Option<String>,
    newest: Newest,
    items_found: usize,
    deadline: Deadline,
    out_of_time: Option<crate::html::HtmlError>,
}

impl<'a> Top<'a> {
    fn default_for(url: &'a Url) -> Top<'a> {
        Top {
            url,
            version: None,
            title: None,
            home_page_url: None,
            description: None,
            language: None,
            newest: Newest::new(1),
            items_found: 0,
            deadline: Deadline::none(),
            out_of_time: None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Top<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON Feed object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let string = |v: Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
            match key.as_str() {
                "version" => self.version = string(map.next_value()?),
                "title" => {
                    self.title = string(map.next_value()?).map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                }
                "home_page_url" => self.home_page_url = string(map.next_value()?),
                "description" => self.description = string(map.next_value()?),
                "language" => self.language = string(map.next_value()?),
                "items" => map.next_value_seed(Items(self))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Items<'t, 'a>(&'t mut Top<'a>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // One item at a time: each is read, turned into an entry (or counted as dropped) and
        // let go before the next.
        while let Some(item) = seq.next_element::<Value>()? {
            self.0.items_found += 1;
            if self.0.items_found.is_multiple_of(1024)
                && let Err(e) = self.0.deadline.check()
            {
                self.0.out_of_time = Some(e);
                return Err(serde::de::Error::custom("out of time"));
            }
            let entry = entry_from(&item, self.0.url);
            self.0.newest.push(entry);
        }
        Ok(())
    }
}

fn entry_from(item: &Value, base: &Url) -> Option<Entry> {
    let obj = item.as_object()?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let mut e = Entry::default();
    let id = match obj.get("id") {
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    e.url = s("url")
        .and_then(|u| resolve(base, u))
        .or_else(|| s("external_url").and_then(|u| resolve(base, u)))
        .map(String::from);
    e.title = s("title").map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    e.content = s("content_html").map(str::to_owned).or_else(|| s("content_text").map(super::text_to_html));
    e.summary = s("summary").map(super::text_to_html);
    e.published = s("date_published").and_then(super::datetime::parse);
    e.updated = s("date_modified").and_then(super::datetime::parse);
    e.published = e.published.or(e.updated);
    e.image = s("image").or(s("banner_image")).and_then(|u| resolve(base, u)).map(String::from);
    let authors = obj.get("authors").and_then(Value::as_array).cloned().unwrap_or_default();
    let author = authors.first().or(obj.get("author")).and_then(|a| match a {
        Value::Object(a) => a.get("name").and_then(Value::as_str).map(str::to_owned),
        Value::String(s) => Some(s.clone()),
        _ => None,
    });
    e.author = author.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    for tag in obj.get("tags").and_then(Value::as_array).into_iter().flatten() {
        push_category(&mut e.categories, tag.as_str());
    }
    for a in obj.get("attachments").and_then(Value::as_array).into_iter().flatten() {
        let Some(url) = a.get("url").and_then(Value::as_str).and_then(|u| resolve(base, u)) else { continue };
        let size = a.get("size_in_bytes").and_then(Value::as_u64).map(|n| n.to_string());
        push_enclosure(&mut e.enclosures, url, a.get("mime_type").and_then(Value::as_str), size.as_deref());
    }
    e.guid = id.or_else(|| e.url.clone()).unwrap_or_else(|| {
        let seed = format!(
            "{}\n{}\n{}",
            e.title.as_deref().unwrap_or(""),
            e.published.map(|d| d.to_rfc3339()).unwrap_or_default(),
            e.enclosures.first().map_or("", |x| x.url.as_str())
        );
        format!("urn:refeed:{:016x}", super::fnv1a(seed.as_bytes()))
    });
    super::repair_mojibake_fields(&mut e);
    let empty =
        e.title.is_none() && e.url.is_none() && e.content.is_none() && e.summary.is_none() && e.enclosures.is_empty();
    (!empty).then_some(e)
}
