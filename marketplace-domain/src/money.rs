//! Money: integer cents, currencies, fee rates and the one allocation rule every split uses.
//!
//! Amounts are `i64` minor units wrapped in [`Cents`]; every arithmetic step is checked and an
//! overflow is an error, never a wrap. Rates are `rust_decimal` percentages with two decimal places,
//! converted once to [`BasisPoints`] (10.00 % = 1000 bps). There is no floating point here.

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Largest price a listing may carry: 99,999,999.99 (the original's `max_digits=10, decimal_places=2`).
pub const MAX_PRICE: Cents = Cents(9_999_999_999);

/// Why an amount could not be computed or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// A sum, difference or product left the `i64` range.
    #[error("amount arithmetic overflowed")]
    Overflow,
    /// A negative amount where only zero or more makes sense.
    #[error("amount must not be negative")]
    Negative,
    /// More than two decimal places, e.g. `1.234`.
    #[error("amount has more than two decimal places")]
    TooPrecise,
    /// Above the largest accepted amount.
    #[error("amount is larger than {max}")]
    TooLarge {
        /// The largest accepted amount.
        max: Cents,
    },
    /// Not a decimal number at all.
    #[error("not a valid amount: {0:?}")]
    NotANumber(String),
}

/// An amount of money in minor units (cents). Signed, because balances and ledger postings are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(i64);

impl Cents {
    /// Zero cents.
    pub const ZERO: Cents = Cents(0);

    /// Wraps a raw count of cents. Cannot fail: every `i64` is an amount.
    pub const fn new(cents: i64) -> Self {
        Cents(cents)
    }

    /// The raw count of cents.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// `self + other`, or [`MoneyError::Overflow`].
    pub fn checked_add(self, other: Cents) -> Result<Cents, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Cents)
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, or [`MoneyError::Overflow`].
    pub fn checked_sub(self, other: Cents) -> Result<Cents, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Cents)
            .ok_or(MoneyError::Overflow)
    }

    /// `self × quantity`, or [`MoneyError::Overflow`].
    pub fn checked_mul(self, quantity: u32) -> Result<Cents, MoneyError> {
        self.0
            .checked_mul(i64::from(quantity))
            .map(Cents)
            .ok_or(MoneyError::Overflow)
    }

    /// `-self`, or [`MoneyError::Overflow`] for `i64::MIN`.
    pub fn checked_neg(self) -> Result<Cents, MoneyError> {
        self.0.checked_neg().map(Cents).ok_or(MoneyError::Overflow)
    }

    /// Sums amounts, failing on overflow.
    pub fn sum<I: IntoIterator<Item = Cents>>(amounts: I) -> Result<Cents, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Cents::ZERO, |acc, amount| acc.checked_add(amount))
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True when above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// True when exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Rejects negative amounts.
    pub fn non_negative(self) -> Result<Cents, MoneyError> {
        if self.is_negative() {
            Err(MoneyError::Negative)
        } else {
            Ok(self)
        }
    }

    /// Parses a user-entered decimal price such as `"12.50"` strictly: no sign, at most two
    /// decimal places, at most [`MAX_PRICE`]. Surrounding whitespace is ignored.
    pub fn parse_price(text: &str) -> Result<Cents, MoneyError> {
        let trimmed = text.trim();
        let well_formed = !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && trimmed.chars().filter(|c| *c == '.').count() <= 1
            && !trimmed.starts_with('.')
            && !trimmed.ends_with('.');
        if !well_formed {
            return Err(MoneyError::NotANumber(trimmed.to_owned()));
        }
        let value: Decimal = trimmed
            .parse()
            .map_err(|_| MoneyError::NotANumber(trimmed.to_owned()))?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        if value.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let cents = Self::from_decimal_half_up(value)?;
        if cents > MAX_PRICE {
            return Err(MoneyError::TooLarge { max: MAX_PRICE });
        }
        Ok(cents)
    }

    /// Converts a decimal amount in major units to cents, rounding half-up at the cent. Negative
    /// amounts and amounts beyond `i64` cents are errors.
    pub fn from_decimal_half_up(value: Decimal) -> Result<Cents, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let cents = rounded
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(MoneyError::Overflow)?;
        cents.to_i64().map(Cents).ok_or(MoneyError::Overflow)
    }

    /// The amount in major units with exactly two decimals, e.g. `Cents(1250)` → `12.50`.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// Why a currency code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency must be a three-letter ISO 4217 code, got {0:?}")]
pub struct CurrencyError(pub String);

/// A lower-case ISO 4217 currency code, as Stripe spells it (`usd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars, the marketplace default.
    pub const USD: Currency = Currency(*b"usd");

    /// Parses `usd`, `USD`, ` Usd ` into `usd`.
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        let lowered = code.trim().to_ascii_lowercase();
        match lowered.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_lowercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(CurrencyError(code.to_owned())),
        }
    }

    /// The lower-case code.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("usd")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rate in basis points, 0 to 10,000 (0 % to 100 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BasisPoints(u32);

/// Why a basis-point value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("basis points must be between 0 and 10000, got {0}")]
pub struct BasisPointsError(pub i64);

impl BasisPoints {
    /// 100 %.
    pub const FULL: BasisPoints = BasisPoints(10_000);
    /// 0 %.
    pub const ZERO: BasisPoints = BasisPoints(0);

    /// Accepts 0..=10,000.
    pub fn new(bps: u32) -> Result<BasisPoints, BasisPointsError> {
        if bps <= 10_000 {
            Ok(BasisPoints(bps))
        } else {
            Err(BasisPointsError(i64::from(bps)))
        }
    }

    /// Accepts a stored signed value in 0..=10,000 (the database keeps `integer`).
    pub fn from_stored(bps: i64) -> Result<BasisPoints, BasisPointsError> {
        u32::try_from(bps)
            .ok()
            .and_then(|value| BasisPoints::new(value).ok())
            .ok_or(BasisPointsError(bps))
    }

    /// The raw value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `round_half_up(amount × self / 10,000)` for a non-negative amount — the line fee rule
    /// (docs/money.md, "Fees"), computed in integers as `(amount × bps + 5000) / 10000`.
    pub fn fee_on(self, amount: Cents) -> Result<Cents, MoneyError> {
        let amount = amount.non_negative()?;
        let scaled = i128::from(amount.get())
            .checked_mul(i128::from(self.0))
            .and_then(|product| product.checked_add(5_000))
            .ok_or(MoneyError::Overflow)?;
        let fee = scaled.checked_div(10_000).ok_or(MoneyError::Overflow)?;
        i64::try_from(fee)
            .map(Cents)
            .map_err(|_| MoneyError::Overflow)
    }
}

/// The marketplace fee as a percentage with two decimal places, clamped to 0–100 like the
/// original's site config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeePercent(Decimal);

impl FeePercent {
    /// The default marketplace fee, 10.00 %.
    pub fn default_fee() -> FeePercent {
        FeePercent(Decimal::new(1000, 2))
    }

    /// Rounds to two decimals (half-up) and clamps into 0–100, as the original's `SiteConfig.clean`.
    pub fn clamped(percent: Decimal) -> FeePercent {
        let rounded = percent.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let clamped = rounded.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
        FeePercent(clamped)
    }

    /// Rebuilds a percentage from stored basis points.
    pub fn from_basis_points(bps: BasisPoints) -> FeePercent {
        FeePercent(Decimal::new(i64::from(bps.get()), 2))
    }

    /// The percentage, e.g. `10.00`.
    pub fn get(self) -> Decimal {
        self.0
    }

    /// Exact conversion: two decimal places of a percent are whole basis points.
    pub fn basis_points(self) -> BasisPoints {
        let bps = self
            .0
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|scaled| scaled.trunc().to_u32())
            .unwrap_or(0);
        // `clamped` guarantees 0..=10_000, so the fallback is unreachable.
        BasisPoints::new(bps).unwrap_or(BasisPoints::ZERO)
    }
}

/// Why an allocation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// The amount to split was negative.
    #[error("cannot allocate a negative amount ({0})")]
    NegativeAmount(Cents),
    /// A weight was negative.
    #[error("weight {index} is negative ({weight})")]
    NegativeWeight {
        /// Position of the offending weight.
        index: usize,
        /// The weight.
        weight: Cents,
    },
    /// A positive amount cannot be split over weights that are all zero (or no weights).
    #[error("cannot allocate {0} over zero total weight")]
    NoWeight(Cents),
    /// Intermediate arithmetic overflowed.
    #[error("allocation overflowed")]
    Overflow,
}

/// Splits `amount` over `weights` exactly, by the largest-remainder method (docs/money.md,
/// "Exact allocation").
///
/// Each share is the floor of its exact proportion; the cents left over go one each to the
/// largest remainders, ties to the earlier index. So the shares always sum to `amount`, each is
/// within one cent of its exact proportion, and a zero weight always gets zero.
pub fn allocate(amount: Cents, weights: &[Cents]) -> Result<Vec<Cents>, AllocationError> {
    if amount.is_negative() {
        return Err(AllocationError::NegativeAmount(amount));
    }
    if let Some((index, weight)) = weights.iter().enumerate().find(|(_, w)| w.is_negative()) {
        return Err(AllocationError::NegativeWeight {
            index,
            weight: *weight,
        });
    }
    if amount.is_zero() {
        return Ok(vec![Cents::ZERO; weights.len()]);
    }
    let total_weight = weights
        .iter()
        .try_fold(0_i128, |acc, w| acc.checked_add(i128::from(w.get())))
        .ok_or(AllocationError::Overflow)?;
    if total_weight == 0 {
        return Err(AllocationError::NoWeight(amount));
    }
    let amount_wide = i128::from(amount.get());
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for weight in weights {
        let scaled = amount_wide
            .checked_mul(i128::from(weight.get()))
            .ok_or(AllocationError::Overflow)?;
        let share = scaled
            .checked_div(total_weight)
            .ok_or(AllocationError::Overflow)?;
        let remainder = scaled
            .checked_rem(total_weight)
            .ok_or(AllocationError::Overflow)?;
        shares.push(share);
        remainders.push(remainder);
    }
    let allocated = shares
        .iter()
        .try_fold(0_i128, |acc, s| acc.checked_add(*s))
        .ok_or(AllocationError::Overflow)?;
    let leftover = amount_wide
        .checked_sub(allocated)
        .ok_or(AllocationError::Overflow)?;
    // Largest remainder first; the stable sort keeps earlier indexes first among equal remainders.
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]));
    let leftover = usize::try_from(leftover).map_err(|_| AllocationError::Overflow)?;
    for index in order.into_iter().take(leftover) {
        shares[index] = shares[index]
            .checked_add(1)
            .ok_or(AllocationError::Overflow)?;
    }
    shares
        .into_iter()
        .map(|share| {
            i64::try_from(share)
                .map(Cents)
                .map_err(|_| AllocationError::Overflow)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(values: &[i64]) -> Vec<Cents> {
        values.iter().copied().map(Cents::new).collect()
    }

    #[test]
    fn ten_percent_of_five_cents_rounds_half_up_to_one_cent() {
        let fee = BasisPoints::new(1000)
            .unwrap()
            .fee_on(Cents::new(5))
            .unwrap();
        assert_eq!(fee, Cents::new(1));
    }

    #[test]
    fn fee_rounds_down_below_the_half_cent() {
        let fee = BasisPoints::new(1000)
            .unwrap()
            .fee_on(Cents::new(4))
            .unwrap();
        assert_eq!(fee, Cents::ZERO);
    }

    #[test]
    fn fee_at_zero_and_full_rate() {
        let gross = Cents::new(999);
        assert_eq!(BasisPoints::ZERO.fee_on(gross).unwrap(), Cents::ZERO);
        assert_eq!(BasisPoints::FULL.fee_on(gross).unwrap(), gross);
    }

    #[test]
    fn fee_percent_is_clamped_and_rounded() {
        assert_eq!(
            FeePercent::clamped(Decimal::new(-5, 0))
                .basis_points()
                .get(),
            0
        );
        assert_eq!(
            FeePercent::clamped(Decimal::new(250, 0))
                .basis_points()
                .get(),
            10_000
        );
        assert_eq!(
            FeePercent::clamped(Decimal::new(10005, 3))
                .basis_points()
                .get(),
            1001
        );
        assert_eq!(FeePercent::default_fee().basis_points().get(), 1000);
    }

    #[test]
    fn prices_parse_strictly() {
        assert_eq!(Cents::parse_price("12.50").unwrap(), Cents::new(1250));
        assert_eq!(Cents::parse_price(" 7 ").unwrap(), Cents::new(700));
        assert_eq!(Cents::parse_price("0.1").unwrap(), Cents::new(10));
        assert_eq!(Cents::parse_price("1.230").unwrap(), Cents::new(123));
        assert_eq!(Cents::parse_price("-1.00"), Err(MoneyError::Negative));
        assert_eq!(Cents::parse_price("1.234"), Err(MoneyError::TooPrecise));
        assert!(matches!(
            Cents::parse_price("1e3"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            Cents::parse_price(""),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            Cents::parse_price("1."),
            Err(MoneyError::NotANumber(_))
        ));
        assert_eq!(
            Cents::parse_price("100000000.00"),
            Err(MoneyError::TooLarge { max: MAX_PRICE })
        );
        assert_eq!(Cents::parse_price("99999999.99").unwrap(), MAX_PRICE);
    }

    #[test]
    fn decimal_conversion_rounds_half_up() {
        assert_eq!(
            Cents::from_decimal_half_up(Decimal::new(1005, 3)).unwrap(),
            Cents::new(101)
        );
        assert_eq!(
            Cents::from_decimal_half_up(Decimal::new(1004, 3)).unwrap(),
            Cents::new(100)
        );
        assert_eq!(
            Cents::from_decimal_half_up(Decimal::new(-1, 2)),
            Err(MoneyError::Negative)
        );
        assert_eq!(
            Cents::from_decimal_half_up(Decimal::MAX),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(
            Cents::new(i64::MAX).checked_add(Cents::new(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Cents::new(i64::MIN).checked_sub(Cents::new(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Cents::new(i64::MAX).checked_mul(2),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Cents::new(i64::MIN).checked_neg(),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn currency_codes_are_normalised() {
        assert_eq!(Currency::parse(" USD ").unwrap(), Currency::USD);
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "eur");
        assert!(Currency::parse("us").is_err());
        assert!(Currency::parse("u$d").is_err());
    }

    #[test]
    fn allocation_gives_leftover_cents_to_largest_remainders() {
        // 100 over 1:1:1 → 33.33 each; one cent left goes to the first (tie → earlier index).
        assert_eq!(
            allocate(Cents::new(100), &cents(&[1, 1, 1])).unwrap(),
            cents(&[34, 33, 33])
        );
        // 10 over 3:3:4 → 3, 3, 4 exactly.
        assert_eq!(
            allocate(Cents::new(10), &cents(&[3, 3, 4])).unwrap(),
            cents(&[3, 3, 4])
        );
        // 5 over 1:2 → 1.67, 3.33 → 2, 3.
        assert_eq!(
            allocate(Cents::new(5), &cents(&[1, 2])).unwrap(),
            cents(&[2, 3])
        );
    }

    #[test]
    fn allocation_never_gives_zero_weights_anything() {
        assert_eq!(
            allocate(Cents::new(7), &cents(&[0, 5, 0, 5])).unwrap(),
            cents(&[0, 4, 0, 3])
        );
    }

    #[test]
    fn allocation_rejects_impossible_splits() {
        assert_eq!(
            allocate(Cents::new(1), &cents(&[0, 0])),
            Err(AllocationError::NoWeight(Cents::new(1)))
        );
        assert_eq!(
            allocate(Cents::ZERO, &cents(&[0, 0])).unwrap(),
            cents(&[0, 0])
        );
        assert!(allocate(Cents::new(-1), &cents(&[1])).is_err());
        assert!(allocate(Cents::new(1), &cents(&[1, -1])).is_err());
    }
}
