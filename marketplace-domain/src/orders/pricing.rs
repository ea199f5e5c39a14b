//! Pricing a cart into an order (docs/money.md, "Pricing an order" and "Exact allocation").
//!
//! Every line carries its own gross, fee, net and its exact shares of tax and shipping; the line
//! values are the source of truth and order figures are their sums. Tax is spread over all lines
//! by gross, shipping over the shippable lines by gross, both with [`allocate`], so the shares
//! always add up to the order's tax and shipping exactly (the original rounded each share half-up
//! and could exceed the total).

use crate::catalog::ProductKind;
use crate::ids::{ProductId, UserId};
use crate::money::{AllocationError, BasisPoints, Cents, Currency, MoneyError, allocate};

/// Largest quantity of one physical line.
pub const MAX_QUANTITY: u32 = 99;

/// What an order contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Only digital files.
    Digital,
    /// Only physical models.
    Physical,
    /// Both.
    Mixed,
}

impl OrderKind {
    /// Stored spelling: `digital`, `physical`, `mixed`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Digital => "digital",
            OrderKind::Physical => "physical",
            OrderKind::Mixed => "mixed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<OrderKind> {
        match text {
            "digital" => Some(OrderKind::Digital),
            "physical" => Some(OrderKind::Physical),
            "mixed" => Some(OrderKind::Mixed),
            _ => None,
        }
    }
}

/// A cart line as priced: a snapshot of the product at checkout time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartItem {
    /// The product.
    pub product: ProductId,
    /// Its seller.
    pub seller: UserId,
    /// Kind of the product.
    pub kind: ProductKind,
    /// Unit price (ignored when free).
    pub unit_price: Cents,
    /// Free listing: the unit price counts as zero.
    pub is_free: bool,
    /// Quantity asked for (files are always 1).
    pub quantity: u32,
}

/// One priced order line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedLine {
    /// The product.
    pub product: ProductId,
    /// The seller snapshot.
    pub seller: UserId,
    /// Kind.
    pub kind: ProductKind,
    /// Quantity (1 for files).
    pub quantity: u32,
    /// Unit price (0 when free).
    pub unit_price: Cents,
    /// `quantity × unit_price`.
    pub gross: Cents,
    /// The platform's fee on the line, `round_half_up(gross × bps / 10000)`.
    pub fee: Cents,
    /// The seller's part, `gross − fee`.
    pub net: Cents,
    /// The line's exact share of the order tax.
    pub tax: Cents,
    /// The line's exact share of the order shipping (shippable lines only).
    pub shipping: Cents,
}

impl PricedLine {
    /// True for digital files.
    pub fn is_digital(&self) -> bool {
        self.kind.is_digital()
    }

    /// True for physical models.
    pub fn requires_shipping(&self) -> bool {
        self.kind.requires_shipping()
    }

    /// What the buyer pays for this line: gross + tax share + shipping share.
    pub fn paid(&self) -> Result<Cents, MoneyError> {
        Cents::sum([self.gross, self.tax, self.shipping])
    }
}

/// An order before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedOrder {
    /// The lines, in cart order.
    pub lines: Vec<PricedLine>,
    /// Digital, physical or mixed.
    pub kind: OrderKind,
    /// The fee rate snapshot.
    pub fee_rate: BasisPoints,
    /// Currency of every amount.
    pub currency: Currency,
    /// Σ gross.
    pub subtotal: Cents,
    /// Order tax (Σ line tax shares).
    pub tax: Cents,
    /// Order shipping (Σ line shipping shares).
    pub shipping: Cents,
    /// `subtotal + tax + shipping`.
    pub total: Cents,
}

impl PricedOrder {
    /// Σ line fees: the platform's revenue on the order.
    pub fn fee(&self) -> Result<Cents, MoneyError> {
        Cents::sum(self.lines.iter().map(|l| l.fee))
    }

    /// True when nothing is to be paid (free checkout).
    pub fn is_free(&self) -> bool {
        self.total.is_zero()
    }
}

/// Why a cart could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// Nothing to order.
    #[error("the cart is empty")]
    EmptyCart,
    /// A quantity of zero or above [`MAX_QUANTITY`].
    #[error("quantity {quantity} of product {product} must be between 1 and {MAX_QUANTITY}")]
    InvalidQuantity {
        /// The product.
        product: ProductId,
        /// The quantity asked for.
        quantity: u32,
    },
    /// A negative unit price.
    #[error("product {product} has a negative price")]
    NegativePrice {
        /// The product.
        product: ProductId,
    },
    /// Tax or shipping on lines that cannot carry it (no gross / nothing shippable).
    #[error("cannot spread {what} of {amount} over the order: {reason}")]
    CannotAllocate {
        /// `tax` or `shipping`.
        what: &'static str,
        /// The amount.
        amount: Cents,
        /// Why.
        reason: AllocationError,
    },
    /// Arithmetic overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The terms a cart is priced on: the fee rate and currency of the site configuration when the
/// order is placed, and the order's tax and shipping. Named fields, so tax and shipping cannot be
/// swapped by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PricingTerms {
    /// The platform's fee rate (snapshotted on the order).
    pub fee_rate: BasisPoints,
    /// Currency of every amount.
    pub currency: Currency,
    /// Tax on the whole order, spread over the lines by gross.
    pub tax: Cents,
    /// Shipping on the whole order, spread over the shippable lines by gross.
    pub shipping: Cents,
}

impl PricingTerms {
    /// Terms with no tax and no shipping (what the marketplace charges today).
    pub fn new(fee_rate: BasisPoints, currency: Currency) -> PricingTerms {
        PricingTerms {
            fee_rate,
            currency,
            tax: Cents::ZERO,
            shipping: Cents::ZERO,
        }
    }
}

/// Prices a cart. Files are forced to quantity 1, free items cost 0, each line gets its fee
/// (half-up on the line gross) and its exact shares of the terms' tax (by gross, over all lines)
/// and shipping (by gross, over shippable lines; equally if every shippable line is free).
///
/// # Errors
/// [`PricingError`] for an empty cart, a bad quantity, a negative price, tax or shipping that
/// cannot be spread, or overflow.
pub fn price_order(items: &[CartItem], terms: &PricingTerms) -> Result<PricedOrder, PricingError> {
    let PricingTerms {
        fee_rate,
        currency,
        tax,
        shipping,
    } = *terms;
    if items.is_empty() {
        return Err(PricingError::EmptyCart);
    }
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let seller = item.seller;
        let quantity = if item.kind.is_digital() {
            1
        } else {
            item.quantity
        };
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(PricingError::InvalidQuantity {
                product: item.product,
                quantity: item.quantity,
            });
        }
        if item.unit_price.is_negative() {
            return Err(PricingError::NegativePrice {
                product: item.product,
            });
        }
        let unit_price = if item.is_free {
            Cents::ZERO
        } else {
            item.unit_price
        };
        let gross = unit_price.checked_mul(quantity)?;
        let fee = fee_rate.fee_on(gross)?;
        let net = gross.checked_sub(fee)?;
        lines.push(PricedLine {
            product: item.product,
            seller,
            kind: item.kind,
            quantity,
            unit_price,
            gross,
            fee,
            net,
            tax: Cents::ZERO,
            shipping: Cents::ZERO,
        });
    }
    spread_tax(&mut lines, tax)?;
    spread_shipping(&mut lines, shipping)?;
    let subtotal = Cents::sum(lines.iter().map(|l| l.gross))?;
    let total = Cents::sum([subtotal, tax, shipping])?;
    let any_digital = lines.iter().any(PricedLine::is_digital);
    let any_physical = lines.iter().any(PricedLine::requires_shipping);
    let kind = match (any_digital, any_physical) {
        (true, true) => OrderKind::Mixed,
        (true, false) => OrderKind::Digital,
        _ => OrderKind::Physical,
    };
    Ok(PricedOrder {
        lines,
        kind,
        fee_rate,
        currency,
        subtotal,
        tax,
        shipping,
        total,
    })
}

fn spread_tax(lines: &mut [PricedLine], tax: Cents) -> Result<(), PricingError> {
    let weights: Vec<Cents> = lines.iter().map(|l| l.gross).collect();
    let shares = allocate(tax, &weights).map_err(|reason| PricingError::CannotAllocate {
        what: "tax",
        amount: tax,
        reason,
    })?;
    for (line, share) in lines.iter_mut().zip(shares) {
        line.tax = share;
    }
    Ok(())
}

fn spread_shipping(lines: &mut [PricedLine], shipping: Cents) -> Result<(), PricingError> {
    let by_gross: Vec<Cents> = lines
        .iter()
        .map(|l| {
            if l.requires_shipping() {
                l.gross
            } else {
                Cents::ZERO
            }
        })
        .collect();
    // Free physical items still ship: without any gross to weigh by, split equally among them.
    let weights = if by_gross.iter().all(|w| w.is_zero()) {
        lines
            .iter()
            .map(|l| Cents::new(i64::from(l.requires_shipping())))
            .collect()
    } else {
        by_gross
    };
    let shares = allocate(shipping, &weights).map_err(|reason| PricingError::CannotAllocate {
        what: "shipping",
        amount: shipping,
        reason,
    })?;
    for (line, share) in lines.iter_mut().zip(shares) {
        line.shipping = share;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn item(n: u128, seller: u128, kind: ProductKind, unit: i64, quantity: u32) -> CartItem {
        CartItem {
            product: ProductId::from_uuid(Uuid::from_u128(n)),
            seller: UserId::from_uuid(Uuid::from_u128(seller)),
            kind,
            unit_price: Cents::new(unit),
            is_free: false,
            quantity,
        }
    }

    fn bps(value: u32) -> BasisPoints {
        BasisPoints::new(value).unwrap()
    }

    fn terms(fee_rate: BasisPoints, tax: Cents, shipping: Cents) -> PricingTerms {
        PricingTerms {
            fee_rate,
            currency: Currency::USD,
            tax,
            shipping,
        }
    }

    #[test]
    fn fifteen_percent_of_three_times_333_cents_like_the_original() {
        // gross 999 × 1500 bps = 149.85 → 150 (half-up), net 849.
        let order = price_order(
            &[item(1, 9, ProductKind::Model, 333, 3)],
            &terms(bps(1500), Cents::ZERO, Cents::ZERO),
        )
        .unwrap();
        let line = &order.lines[0];
        assert_eq!(
            (line.gross, line.fee, line.net),
            (Cents::new(999), Cents::new(150), Cents::new(849))
        );
        assert_eq!(order.total, Cents::new(999));
    }

    #[test]
    fn zero_and_full_rates_and_free_items() {
        let zero = price_order(
            &[item(1, 9, ProductKind::Model, 500, 2)],
            &terms(BasisPoints::ZERO, Cents::ZERO, Cents::ZERO),
        )
        .unwrap();
        assert_eq!(
            (zero.lines[0].fee, zero.lines[0].net),
            (Cents::ZERO, Cents::new(1000))
        );
        let full = price_order(
            &[item(1, 9, ProductKind::Model, 500, 2)],
            &terms(BasisPoints::FULL, Cents::ZERO, Cents::ZERO),
        )
        .unwrap();
        assert_eq!(
            (full.lines[0].fee, full.lines[0].net),
            (Cents::new(1000), Cents::ZERO)
        );
        let mut free = item(1, 9, ProductKind::File, 500, 1);
        free.is_free = true;
        let order = price_order(&[free], &terms(bps(1000), Cents::ZERO, Cents::ZERO)).unwrap();
        assert!(order.is_free());
        assert_eq!(
            (order.lines[0].unit_price, order.lines[0].fee),
            (Cents::ZERO, Cents::ZERO)
        );
    }

    #[test]
    fn files_are_always_quantity_one_and_kinds_are_derived() {
        let order = price_order(
            &[
                item(1, 9, ProductKind::File, 250, 7),
                item(2, 8, ProductKind::Model, 100, 2),
            ],
            &terms(bps(1000), Cents::ZERO, Cents::ZERO),
        )
        .unwrap();
        assert_eq!(order.lines[0].quantity, 1);
        assert_eq!(order.lines[0].gross, Cents::new(250));
        assert_eq!(order.kind, OrderKind::Mixed);
        assert!(order.lines[0].is_digital() && !order.lines[0].requires_shipping());
        assert_eq!(order.subtotal, Cents::new(450));
    }

    #[test]
    fn empty_carts_and_bad_quantities_are_errors() {
        assert_eq!(
            price_order(&[], &terms(bps(1000), Cents::ZERO, Cents::ZERO)),
            Err(PricingError::EmptyCart)
        );
        for quantity in [0, 100] {
            assert!(matches!(
                price_order(
                    &[item(1, 9, ProductKind::Model, 100, quantity)],
                    &terms(bps(1000), Cents::ZERO, Cents::ZERO)
                ),
                Err(PricingError::InvalidQuantity { .. })
            ));
        }
    }

    /// A defect of the original fixed here: it rounded each line's tax share half-up, so three equal lines
    /// sharing 100 cents of tax got 33.33 → 33 each (99, one cent lost) and 50/50 splits of odd
    /// amounts got one cent too many. Exact allocation always sums to the order's tax.
    #[test]
    fn regression_tax_and_shipping_shares_sum_exactly() {
        let lines = [
            item(1, 9, ProductKind::Model, 100, 1),
            item(2, 9, ProductKind::Model, 100, 1),
            item(3, 8, ProductKind::File, 100, 1),
        ];
        let order = price_order(&lines, &terms(bps(1000), Cents::new(100), Cents::new(5))).unwrap();
        let taxes: Vec<i64> = order.lines.iter().map(|l| l.tax.get()).collect();
        assert_eq!(taxes, [34, 33, 33]);
        // The original: each share = round_half_up(tax × gross / Σ gross) = (2·100·100 + 300) / 600.
        let original_share = (2 * 100 * 100 + 300) / 600;
        assert_eq!(3 * original_share, 99, "the original loses a cent");
        let shipping: Vec<i64> = order.lines.iter().map(|l| l.shipping.get()).collect();
        assert_eq!(
            shipping,
            [3, 2, 0],
            "shipping only on shippable lines, exactly 5"
        );
        assert_eq!(order.total, Cents::new(405));
        let paid: i64 = order.lines.iter().map(|l| l.paid().unwrap().get()).sum();
        assert_eq!(paid, order.total.get());
    }

    #[test]
    fn shipping_without_anything_to_ship_is_refused() {
        let result = price_order(
            &[item(1, 9, ProductKind::File, 100, 1)],
            &terms(bps(1000), Cents::ZERO, Cents::new(500)),
        );
        assert!(matches!(
            result,
            Err(PricingError::CannotAllocate {
                what: "shipping",
                ..
            })
        ));
        let mut free_model = item(2, 9, ProductKind::Model, 100, 1);
        free_model.is_free = true;
        let order = price_order(
            &[free_model.clone(), free_model],
            &terms(bps(1000), Cents::ZERO, Cents::new(5)),
        )
        .unwrap();
        assert_eq!(
            order
                .lines
                .iter()
                .map(|l| l.shipping.get())
                .collect::<Vec<_>>(),
            [3, 2]
        );
    }
}
