//! PromQL as values: [`PromQl`] (an expression, checked for shape and readable for the
//! metric names it uses), [`MetricName`] and [`Duration`] (Prometheus's duration
//! notation, from typed units).

use std::collections::BTreeSet;
use std::fmt;

use crate::error::ObservabilityError;

/// A PromQL expression: one line, brackets and quotes balanced. Not a full parser: the
/// Prometheus operator's admission webhook and Prometheus itself parse it; this catches
/// what would fail there before anything is applied, and reads the metric names an
/// expression selects ([`PromQl::metric_names`]) so a stack can test that every alert
/// reads a metric something exposes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromQl(String);

/// PromQL keywords that are followed by a label list, not a metric.
const LABEL_LIST_KEYWORDS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
/// Other PromQL words that are not metric names: operators and the aggregations, which
/// may be followed by `by (...)` before their parenthesis.
const KEYWORDS: [&str; 23] = [
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "atan2",
    "inf",
    "nan",
    "start",
    "end",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "limitk",
];

impl PromQl {
    /// Check `expr`: non-empty, one line, `()`, `[]`, `{}` and quotes balanced.
    pub fn new(expr: impl Into<String>) -> Result<Self, ObservabilityError> {
        let expr = expr.into();
        let fail = |why: &str| ObservabilityError::PromQl {
            expr: expr.clone(),
            why: why.to_owned(),
        };
        if expr.trim().is_empty() {
            return Err(fail("is empty"));
        }
        if expr.contains(['\n', '\r']) {
            return Err(fail("spans lines; write it on one line"));
        }
        let mut stack = Vec::new();
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in expr.chars() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '"' | '\'' | '`' => quote = Some(c),
                '(' | '[' | '{' => stack.push(c),
                ')' | ']' | '}' => {
                    let open = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if stack.pop() != Some(open) {
                        return Err(fail("has an unbalanced bracket"));
                    }
                }
                _ => {}
            }
        }
        if quote.is_some() {
            return Err(fail("has an unterminated string"));
        }
        if !stack.is_empty() {
            return Err(fail("has an unclosed bracket"));
        }
        Ok(Self(expr))
    }

    /// The expression.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The metric names the expression selects: identifiers outside strings, label
    /// matchers, label lists and range selectors, that are not function calls or
    /// keywords. `rate(http_requests_total{code=~"5.."}[5m]) > 0` reads
    /// `http_requests_total`.
    pub fn metric_names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let chars: Vec<char> = self.0.chars().collect();
        let mut i = 0;
        // Depth inside `{...}` / `[...]`, and whether the next `(` opens a label list.
        let mut braces = 0usize;
        let mut label_list_next = false;
        let mut label_list_depth: Option<usize> = None;
        let mut parens = 0usize;
        while i < chars.len() {
            let c = chars[i];
            if matches!(c, '"' | '\'' | '`') {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            match c {
                '{' | '[' => braces += 1,
                '}' | ']' => braces = braces.saturating_sub(1),
                '(' => {
                    parens += 1;
                    if label_list_next {
                        label_list_depth = Some(parens);
                        label_list_next = false;
                    }
                }
                ')' => {
                    if label_list_depth == Some(parens) {
                        label_list_depth = None;
                    }
                    parens = parens.saturating_sub(1);
                }
                _ => {}
            }
            if is_name_start(c) && (i == 0 || !is_name_char(chars[i - 1])) {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let called = chars.get(j) == Some(&'(');
                if LABEL_LIST_KEYWORDS.contains(&word.as_str()) {
                    label_list_next = called;
                } else if braces == 0
                    && label_list_depth.is_none()
                    && !called
                    && !KEYWORDS.contains(&word.as_str())
                    && !word.chars().all(|c| c.is_ascii_digit())
                {
                    names.insert(word);
                }
                continue;
            }
            i += 1;
        }
        names
    }
}

impl fmt::Display for PromQl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Whether `name` follows Prometheus's metric name grammar.
pub(crate) fn is_prometheus_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// Whether `name` follows Prometheus's label name grammar (no `:`).
pub(crate) fn is_label_name(name: &str) -> bool {
    is_prometheus_name(name) && !name.contains(':')
}

/// A metric family name (`rabbitmq_queue_messages_ready`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricName(String);

impl MetricName {
    /// Check `name` against Prometheus's grammar.
    pub fn new(name: impl Into<String>) -> Result<Self, ObservabilityError> {
        let name = name.into();
        if is_prometheus_name(&name) {
            Ok(Self(name))
        } else {
            Err(ObservabilityError::NotPrometheusName {
                what: "metric name".into(),
                value: name,
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Prometheus duration (`30s`, `10m`, `1h`), built from typed units so it cannot be
/// misspelled; written in the largest unit that divides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    seconds: u64,
}

impl Duration {
    /// `n` seconds.
    pub const fn seconds(n: u64) -> Self {
        Self { seconds: n }
    }

    /// `n` minutes.
    pub const fn minutes(n: u64) -> Self {
        Self { seconds: n * 60 }
    }

    /// `n` hours.
    pub const fn hours(n: u64) -> Self {
        Self { seconds: n * 3600 }
    }

    /// `n` days.
    pub const fn days(n: u64) -> Self {
        Self {
            seconds: n * 86_400,
        }
    }

    /// The length in seconds.
    pub const fn as_seconds(self) -> u64 {
        self.seconds
    }

    /// Refuse zero for `what`.
    pub(crate) fn non_zero(self, what: &str) -> Result<Self, ObservabilityError> {
        if self.seconds == 0 {
            Err(ObservabilityError::Duration {
                what: what.into(),
                seconds: 0,
                allowed: "at least one second".into(),
            })
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s != 0 && s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s != 0 && s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_skip_functions_labels_strings_and_ranges() {
        let q = PromQl::new(
            r#"sum by (queue) (rate(celery_task_failed_total{queue=~"a|b"}[5m])) / ignoring(x) sum(up) > 0.1 and on(job) absent(api_up)"#,
        )
        .unwrap();
        let names: Vec<String> = q.metric_names().into_iter().collect();
        assert_eq!(names, ["api_up", "celery_task_failed_total", "up"]);
    }

    #[test]
    fn unbalanced_or_multiline_expressions_are_refused() {
        for bad in ["", "sum(up", "up{job=\"a}", "up\n> 0", "up)"] {
            assert!(
                matches!(PromQl::new(bad), Err(ObservabilityError::PromQl { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn durations_render_in_the_largest_unit() {
        assert_eq!(Duration::minutes(10).to_string(), "10m");
        assert_eq!(Duration::seconds(90).to_string(), "90s");
        assert_eq!(Duration::seconds(3600).to_string(), "1h");
        assert_eq!(Duration::days(7).to_string(), "7d");
        assert!(matches!(
            Duration::seconds(0).non_zero("for"),
            Err(ObservabilityError::Duration { seconds: 0, .. })
        ));
    }

    #[test]
    fn metric_names_follow_the_grammar() {
        assert!(MetricName::new("rabbitmq_queue_messages_ready").is_ok());
        assert!(matches!(
            MetricName::new("9lives"),
            Err(ObservabilityError::NotPrometheusName { .. })
        ));
    }
}
