//! Who is served which disclosure (`docs/log-format.md` §6): the visibility a disclosure is
//! stored with, and the classes of reader the log's entry endpoints distinguish.
//!
//! The server filters what it serves with these rules and the verifier checks them, both ways,
//! for the reader it runs as: a value this reader should be served and is not has been withheld
//! (or deleted behind the log's back), and one it should not be served and is has leaked. One
//! definition keeps the two from drifting apart.

use std::fmt;

/// Who may be served a disclosure: the label stored beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Visibility {
    /// Anyone: the names in a public decision, and whatever a publication made public.
    Public,
    /// Any authenticated reader: the withheld values of an `internal` decision.
    Internal,
    /// Auditors and redactors (on the log's endpoints): those of a `restricted` decision.
    Restricted,
}

impl Visibility {
    /// The spelling stored beside a disclosure, and a record's `classification`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
            Visibility::Restricted => "restricted",
        }
    }

    /// The visibility spelt `text`.
    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "public" => Some(Visibility::Public),
            "internal" => Some(Visibility::Internal),
            "restricted" => Some(Visibility::Restricted),
            _ => None,
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A class of reader of the log's entry endpoints, which serve disclosures whatever the
/// decision's body (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// No token.
    Anonymous,
    /// A token of role `admin`, `secretariat` or `staff`.
    Authenticated,
    /// A token of role `auditor` or `redactor`: served every disclosure that is not erased.
    Auditor,
}

impl Reader {
    /// The reader class of a token of `role` (`None`: no token). `None` for an unknown role.
    pub fn of_role(role: Option<&str>) -> Option<Reader> {
        match role {
            None | Some("anonymous") => Some(Reader::Anonymous),
            Some("admin" | "secretariat" | "staff") => Some(Reader::Authenticated),
            Some("auditor" | "redactor") => Some(Reader::Auditor),
            Some(_) => None,
        }
    }

    /// Whether a disclosure stored with `visibility` is served to this reader.
    pub fn may_see(self, visibility: Visibility) -> bool {
        match visibility {
            Visibility::Public => true,
            Visibility::Internal => self != Reader::Anonymous,
            Visibility::Restricted => self == Reader::Auditor,
        }
    }

    /// The name used in reports and export headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Reader::Anonymous => "anonymous",
            Reader::Authenticated => "authenticated",
            Reader::Auditor => "auditor",
        }
    }

    /// The reader named `text`, as [`Reader::as_str`] spells it or by a role.
    pub fn parse(text: &str) -> Option<Reader> {
        match text {
            "authenticated" => Some(Reader::Authenticated),
            _ => Reader::of_role(Some(text)),
        }
    }
}

impl fmt::Display for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reader_is_served_exactly_its_classes() {
        use Visibility::*;
        let table = [
            (Reader::Anonymous, [true, false, false]),
            (Reader::Authenticated, [true, true, false]),
            (Reader::Auditor, [true, true, true]),
        ];
        for (reader, expected) in table {
            let got = [Public, Internal, Restricted].map(|v| reader.may_see(v));
            assert_eq!(got, expected, "{reader}");
        }
    }

    #[test]
    fn roles_map_to_reader_classes() {
        assert_eq!(Reader::of_role(None), Some(Reader::Anonymous));
        for role in ["admin", "secretariat", "staff"] {
            assert_eq!(Reader::of_role(Some(role)), Some(Reader::Authenticated));
        }
        for role in ["auditor", "redactor"] {
            assert_eq!(Reader::of_role(Some(role)), Some(Reader::Auditor));
        }
        assert_eq!(Reader::of_role(Some("operator")), None);
        for reader in [Reader::Anonymous, Reader::Authenticated, Reader::Auditor] {
            assert_eq!(Reader::parse(reader.as_str()), Some(reader));
        }
        for v in [
            Visibility::Public,
            Visibility::Internal,
            Visibility::Restricted,
        ] {
            assert_eq!(Visibility::parse(v.as_str()), Some(v));
        }
        assert_eq!(Visibility::parse("secret"), None);
    }
}
