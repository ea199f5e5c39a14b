//! Query parameters whose limits the OpenAPI document states.
//!
//! The values are checked where they are used (the domain's [`PageRequest::parse`] and
//! [`AnalyticsPeriod::of_days`] name the parameter in a 422); these types make the document say
//! the same bounds, so a client knows them before it is refused.
//!
//! [`PageRequest::parse`]: marketplace_domain::pagination::PageRequest::parse

use std::borrow::Cow;
use std::marker::PhantomData;

use marketplace_domain::catalog::CategoryType;
use marketplace_domain::engagement::AnalyticsPeriod;
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::pagination::{MAX_PAGE, MAX_PER_PAGE};
use marketplace_domain::reconcile::ReconFlag;
use marketplace_domain::refunds::RefundRequestStatus;
use marketplace_ports::ports::{JobStatus, WebhookStatus};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};
use serde_json::Value;

/// A query parameter of type `T` whose schema `S` states what the API accepts. The value itself
/// is checked where it is used, with a message naming the parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<T, S>(T, PhantomData<S>);

impl<T, S> Param<T, S> {
    /// The value as sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<S> std::ops::Deref for Param<String, S> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// What a [`Param`] accepts, as the document shows it.
pub trait ParamSchema: Send + Sync {
    /// A name for the schema, unique among parameters.
    fn name() -> Cow<'static, str>;
    /// The schema.
    fn schema() -> MetaSchema;
}

impl<T, S> Type for Param<T, S>
where
    T: Type + Send + Sync,
    S: ParamSchema,
{
    const IS_REQUIRED: bool = true;
    type RawValueType = T;
    type RawElementValueType = T;

    fn name() -> Cow<'static, str> {
        S::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(S::schema()))
    }

    fn as_raw_value(&self) -> Option<&T> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a T> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<T, S> ParseFromParameter for Param<T, S>
where
    T: ParseFromParameter + Send + Sync,
    S: ParamSchema,
{
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value)
            .map(|value| Param(value, PhantomData))
            .map_err(ParseError::propagate)
    }
}

/// A text parameter documented by `S`.
pub type Text<S> = Param<String, S>;

/// An integer documented as `MIN ≤ value ≤ MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Between<const MIN: i64, const MAX: i64>;

impl<const MIN: i64, const MAX: i64> ParamSchema for Between<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        format!("integer_{MIN}_to_{MAX}").into()
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            minimum: Some(MIN as f64),
            maximum: Some(MAX as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        }
    }
}

/// `?page=`: 1-based page number.
pub type PageNumber = Param<i64, Between<1, { MAX_PAGE as i64 }>>;
/// `?per_page=`: rows per page.
pub type PerPage = Param<i64, Between<1, { MAX_PER_PAGE as i64 }>>;

/// The length of one of the [`AnalyticsPeriod`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodLength;

impl ParamSchema for PeriodLength {
    fn name() -> Cow<'static, str> {
        "analytics_period_days".into()
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            enum_items: AnalyticsPeriod::ALL
                .iter()
                .map(|period| period.days().into())
                .collect(),
            ..MetaSchema::new_with_format("integer", "int64")
        }
    }
}

/// Text of at most `N` characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxChars<const N: usize>;

impl<const N: usize> ParamSchema for MaxChars<N> {
    fn name() -> Cow<'static, str> {
        format!("string_max_{N}").into()
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            max_length: Some(N),
            ..MetaSchema::new("string")
        }
    }
}

/// `?days=` of seller analytics.
pub type PeriodDays = Param<i64, PeriodLength>;

/// A string schema of exactly these values.
fn one_of(values: impl IntoIterator<Item = &'static str>) -> MetaSchema {
    MetaSchema {
        enum_items: values.into_iter().map(Value::from).collect(),
        ..MetaSchema::new("string")
    }
}

/// Declares a text parameter whose schema is exactly `values`.
macro_rules! one_of_param {
    ($(#[$doc:meta])* $marker:ident, $name:literal, $values:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $marker;

        impl ParamSchema for $marker {
            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema() -> MetaSchema {
                one_of($values)
            }
        }
    };
}

one_of_param!(
    /// `?status=` of the order lists.
    OrderStatuses,
    "order_status",
    OrderStatus::ALL.map(OrderStatus::as_str)
);
one_of_param!(
    /// `?status=` of the refund request queues.
    RefundRequestStatuses,
    "refund_request_status",
    RefundRequestStatus::ALL.map(RefundRequestStatus::as_str)
);
one_of_param!(
    /// `?status=` of the job list.
    JobStatuses,
    "job_status",
    JobStatus::ALL.map(JobStatus::as_str)
);
one_of_param!(
    /// `?status=` of the received webhook events.
    WebhookStatuses,
    "webhook_status",
    WebhookStatus::ALL.map(WebhookStatus::as_str)
);
one_of_param!(
    /// `?flag=` of the reconciliation report.
    FlagCodes,
    "reconciliation_flag",
    ReconFlag::CODES
);

/// The report queue's filters: waiting for staff, or decided.
pub const REPORT_STATUSES: [&str; 2] = ["open", "resolved"];

one_of_param!(
    /// `?status=` of the report queue.
    ReportStatuses,
    "report_status",
    REPORT_STATUSES
);

/// `?kind=` of the catalogue: `MODEL` or `FILE`, in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnyCaseKind;

impl ParamSchema for AnyCaseKind {
    fn name() -> Cow<'static, str> {
        "listing_kind_any_case".into()
    }

    fn schema() -> MetaSchema {
        let any_case = |word: &str| {
            word.chars()
                .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
                .collect::<String>()
        };
        let words = [CategoryType::Model, CategoryType::File].map(|kind| any_case(kind.as_str()));
        MetaSchema {
            pattern: Some(format!("^({})$", words.join("|"))),
            ..MetaSchema::new("string")
        }
    }
}

/// `?since=` / `?until=`: a calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day;

impl ParamSchema for Day {
    fn name() -> Cow<'static, str> {
        "day".into()
    }

    fn schema() -> MetaSchema {
        MetaSchema::new_with_format("string", "date")
    }
}
