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

/// Why an STS response body is not an STS answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed XML (or not decodable text).
    #[error("not well-formed XML: {0}")]
    Syntax(#[source] ReaderError),
    /// A second root element.
    #[error("more than one root element")]
    SecondRoot,
    /// An element name that is not UTF-8.
    #[error("element name is not UTF-8")]
    NameNotUtf8,
    /// Elements nested deeper than the limit.
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    /// A field element given twice (the `/`-joined path).
    #[error("element {0} appears twice")]
    Repeated(String),
    /// The root element is empty (`<X/>`).
    #[error("empty root element")]
    EmptyRoot,
    /// Non-blank text outside the root element.
    #[error("text outside the root element")]
    TextOutsideRoot,
    /// An entity other than the five predefined ones and character references.
    #[error("unknown entity `&{0};`")]
    UnknownEntity(String),
    /// A document type declaration (never accepted: no DTD processing).
    #[error("a DOCTYPE is not accepted")]
    DocType,
    /// The document ends before its root element does.
    #[error("the document ends inside an element")]
    Unclosed,
    /// Neither every identity field nor an error code.
    #[error("neither a complete GetCallerIdentityResult nor an ErrorResponse")]
    Incomplete,
}

/// The XML reader's own error (compared by its message).
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct ReaderError(quick_xml::Error);

impl PartialEq for ReaderError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for ReaderError {}

impl From<quick_xml::Error> for XmlError {
    fn from(e: quick_xml::Error) -> Self {
        XmlError::Syntax(ReaderError(e))
    }
}

impl From<quick_xml::encoding::EncodingError> for XmlError {
    fn from(e: quick_xml::encoding::EncodingError) -> Self {
        XmlError::Syntax(ReaderError(e.into()))
    }
}

/// Parses an STS response body.
pub fn parse(body: &[u8]) -> Result<StsXml, XmlError> {
    let mut reader = Reader::from_reader(body);
    let mut doc = Document::default();
    loop {
        match reader.read_event()? {
            Event::Start(e) => doc.start(e.local_name().as_ref())?,
            Event::Empty(e) => doc.empty(e.local_name().as_ref())?,
            Event::End(_) => doc.end(),
            Event::Text(t) => doc.text(&t.xml10_content()?)?,
            Event::CData(t) => doc.append(&t.decode()?),
            Event::GeneralRef(r) => doc.reference(&r.decode()?)?,
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => return doc.finish(),
        }
    }
}

/// The state of one parse: where we are, and the fields read so far.
#[derive(Default)]
struct Document {
    path: Vec<String>,
    roots: usize,
    values: [Option<String>; 5],
    current: Option<(Field, String)>,
}

impl Document {
    /// `<name>`: one root only, bounded depth, each field once.
    fn start(&mut self, name: &[u8]) -> Result<(), XmlError> {
        if self.path.is_empty() {
            self.roots += 1;
            if self.roots > 1 {
                return Err(XmlError::SecondRoot);
            }
        }
        let name = String::from_utf8(name.to_vec()).map_err(|_| XmlError::NameNotUtf8)?;
        self.path.push(name);
        if self.path.len() > MAX_DEPTH {
            return Err(XmlError::TooDeep(MAX_DEPTH));
        }
        if let Some(field) = field_at(&self.path) {
            if self.values.get(field as usize).is_some_and(Option::is_some) {
                return Err(XmlError::Repeated(self.path.join("/")));
            }
            self.current = Some((field, String::new()));
        }
        Ok(())
    }

    /// `<name/>`: an empty field (never the root).
    fn empty(&mut self, name: &[u8]) -> Result<(), XmlError> {
        if self.path.is_empty() {
            return Err(XmlError::EmptyRoot);
        }
        self.path.push(String::from_utf8_lossy(name).into_owned());
        if let Some(field) = field_at(&self.path)
            && let Some(slot) = self.values.get_mut(field as usize)
            && slot.replace(String::new()).is_some()
        {
            return Err(XmlError::Repeated(self.path.join("/")));
        }
        self.path.pop();
        Ok(())
    }

    /// `</name>`: the field being read, if it ends here, is stored.
    fn end(&mut self) {
        if let Some((field, text)) = self.current.take() {
            if field_at(&self.path) == Some(field) {
                if let Some(slot) = self.values.get_mut(field as usize) {
                    *slot = Some(text);
                }
            } else {
                self.current = Some((field, text));
            }
        }
        self.path.pop();
    }

    /// Text: part of the field being read; only blanks outside the root.
    fn text(&mut self, text: &str) -> Result<(), XmlError> {
        if self.current.is_none() && self.path.is_empty() && !text.trim().is_empty() {
            return Err(XmlError::TextOutsideRoot);
        }
        self.append(text);
        Ok(())
    }

    /// `&name;`: a predefined entity or a character reference.
    fn reference(&mut self, name: &str) -> Result<(), XmlError> {
        let resolved =
            resolve_reference(name).ok_or_else(|| XmlError::UnknownEntity(name.to_owned()))?;
        self.append(resolved.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    /// Appends to the field being read, if any.
    fn append(&mut self, text: &str) {
        if let Some((_, buf)) = self.current.as_mut() {
            buf.push_str(text);
        }
    }

    /// End of input: every element closed, and a complete answer.
    fn finish(self) -> Result<StsXml, XmlError> {
        if !self.path.is_empty() {
            return Err(XmlError::Unclosed);
        }
        let [arn, user_id, account, code, message] = self.values;
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
            _ => Err(XmlError::Incomplete),
        }
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
