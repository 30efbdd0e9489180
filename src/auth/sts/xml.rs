//! STS's XML answers: `GetCallerIdentityResponse/GetCallerIdentityResult/{Arn,UserId,Account}`
//! and `ErrorResponse/Error/{Code,Message}` (also `ErrorResponse/Errors/Error/…`,
//! as some emulators write it). Strict: one root, each field once, no DTD,
//! bounded depth.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The deepest element nesting accepted.
const MAX_DEPTH: usize = 16;

/// A parsed STS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsXml {
    /// A `GetCallerIdentityResult`.
    Identity {
        /// `Arn`
        arn: String,
        /// `UserId`
        user_id: String,
        /// `Account`
        account: String,
    },
    /// An `ErrorResponse`.
    Error {
        /// `Code`
        code: String,
        /// `Message` (may be empty).
        message: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Arn,
    UserId,
    Account,
    Code,
    Message,
}

fn field_at(path: &[String]) -> Option<Field> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["GetCallerIdentityResponse", "GetCallerIdentityResult", leaf] => match *leaf {
            "Arn" => Some(Field::Arn),
            "UserId" => Some(Field::UserId),
            "Account" => Some(Field::Account),
            _ => None,
        },
        ["ErrorResponse", "Error", leaf] | ["ErrorResponse", "Errors", "Error", leaf] => {
            match *leaf {
                "Code" => Some(Field::Code),
                "Message" => Some(Field::Message),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Parses an STS response body.
pub fn parse(body: &[u8]) -> Result<StsXml, String> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<String> = Vec::new();
    let mut roots = 0usize;
    let mut values: [Option<String>; 5] = Default::default();
    let mut current: Option<(Field, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                if path.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        return Err("more than one root element".into());
                    }
                }
                let name = String::from_utf8(e.local_name().as_ref().to_vec())
                    .map_err(|_| "element name is not UTF-8".to_owned())?;
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err("elements nested too deeply".into());
                }
                if let Some(field) = field_at(&path) {
                    if values.get(field as usize).is_some_and(Option::is_some) {
                        return Err(format!("element {} appears twice", path.join("/")));
                    }
                    current = Some((field, String::new()));
                }
            }
            Event::Empty(e) => {
                if path.is_empty() {
                    return Err("empty root element".into());
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.push(name);
                if let Some(field) = field_at(&path)
                    && let Some(slot) = values.get_mut(field as usize)
                    && slot.replace(String::new()).is_some()
                {
                    return Err(format!("element {} appears twice", path.join("/")));
                }
                path.pop();
            }
            Event::End(_) => {
                if let Some((field, text)) = current.take() {
                    if field_at(&path) == Some(field) {
                        if let Some(slot) = values.get_mut(field as usize) {
                            *slot = Some(text);
                        }
                    } else {
                        current = Some((field, text));
                    }
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|e| e.to_string())?;
                if let Some((_, buf)) = current.as_mut() {
                    buf.push_str(&text);
                } else if path.is_empty() && !text.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if let Some((_, buf)) = current.as_mut() {
                    buf.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let resolved =
                    resolve_reference(&name).ok_or_else(|| format!("unknown entity `&{name};`"))?;
                if let Some((_, buf)) = current.as_mut() {
                    buf.push(resolved);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !path.is_empty() {
        return Err("the document ends inside an element".into());
    }
    let [arn, user_id, account, code, message] = values;
    match (arn, user_id, account, code) {
        (Some(arn), Some(user_id), Some(account), None) => Ok(StsXml::Identity {
            arn,
            user_id,
            account,
        }),
        (None, None, None, Some(code)) => Ok(StsXml::Error {
            code,
            message: message.unwrap_or_default(),
        }),
        _ => Err("neither a complete GetCallerIdentityResult nor an ErrorResponse".into()),
    }
}

/// The five predefined entities and character references.
fn resolve_reference(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    quick_xml::escape::resolve_predefined_entity(name).and_then(|s| s.chars().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_errors() {
        let ok = br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a&amp;b</Arn><UserId>AIDAX</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;
        assert_eq!(
            parse(ok).unwrap(),
            StsXml::Identity {
                arn: "arn:aws:iam::123456789012:user/a&b".into(),
                user_id: "AIDAX".into(),
                account: "123456789012".into()
            }
        );
        let err = br#"<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>nope</Message></Error></ErrorResponse>"#;
        assert!(
            matches!(parse(err).unwrap(), StsXml::Error { code, .. } if code == "SignatureDoesNotMatch")
        );
        let moto =
            br#"<ErrorResponse><Errors><Error><Code>X</Code></Error></Errors></ErrorResponse>"#;
        assert!(parse(moto).is_ok());
        for bad in [
            &b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn>"[..],
            b"<!DOCTYPE x [<!ENTITY e \"x\">]><ErrorResponse><Error><Code>&e;</Code></Error></ErrorResponse>",
            b"<a/>",
            b"",
            b"<ErrorResponse><Error><Code>A</Code><Code>B</Code></Error></ErrorResponse>",
            b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>",
            b"<ErrorResponse><Error><Code>A</Code></Error></ErrorResponse><ErrorResponse/>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
