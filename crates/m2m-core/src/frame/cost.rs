//! The cost estimate an M2M v1 header carries: the reference's price table
//! (cents per 1,000 tokens, matched by case-insensitive model-name prefix) and
//! its arithmetic, in `f32` and in the same order, so the bytes agree.

/// `(model prefix, input cents, output cents)` per 1,000 tokens, first match wins.
const PRICES: [(&str, f32, f32); 20] = [
    ("gpt-4o-mini", 0.015, 0.06),
    ("gpt-4o", 0.25, 1.00),
    ("gpt-4-turbo", 1.00, 3.00),
    ("gpt-4", 3.00, 6.00),
    ("gpt-3.5-turbo", 0.05, 0.15),
    ("o1-preview", 1.50, 6.00),
    ("o1-mini", 0.30, 1.20),
    ("o3-mini", 0.11, 0.44),
    ("o3", 2.00, 8.00),
    ("claude-3-opus", 1.50, 7.50),
    ("claude-3.5-sonnet", 0.30, 1.50),
    ("claude-3-5-sonnet", 0.30, 1.50),
    ("claude-3-sonnet", 0.30, 1.50),
    ("claude-3.5-haiku", 0.08, 0.40),
    ("claude-3-5-haiku", 0.08, 0.40),
    ("claude-3-haiku", 0.025, 0.125),
    ("gemini-1.5-pro", 0.125, 0.50),
    ("gemini-1.5-flash", 0.0075, 0.03),
    ("gemini-2.0-flash", 0.01, 0.04),
    // Not a prefix: the entry for every other model.
    ("", 0.10, 0.30),
];

/// The estimated cost in US dollars of `prompt` input and `completion` output
/// tokens of `model`.
pub fn estimate(model: &str, prompt: u32, completion: u32) -> f32 {
    let lower = model.to_lowercase();
    let (_, input, output) = PRICES
        .iter()
        .find(|(prefix, _, _)| lower.starts_with(prefix))
        .copied()
        .unwrap_or(PRICES[PRICES.len() - 1]);
    ((prompt as f32 / 1000.0) * input + (completion as f32 / 1000.0) * output) / 100.0
}

#[cfg(test)]
mod tests {
    use super::estimate;

    #[test]
    fn longer_prefixes_win_and_case_is_ignored() {
        assert_eq!(estimate("GPT-4o-Mini-2024", 1000, 0), 0.015 / 100.0);
        assert_eq!(estimate("gpt-4o", 0, 1000), 1.0 / 100.0);
        assert_eq!(estimate("o3-mini", 1000, 0), 0.11 / 100.0);
        assert_eq!(
            estimate("something-else", 1000, 1000),
            (0.10 + 0.30) / 100.0
        );
        assert_eq!(estimate("", 0, 0), 0.0);
    }
}
