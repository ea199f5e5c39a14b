//! What the end-to-end tests and the crash drill share.

/// The simulator's hosted checkout form as a buyer fills it: paying by card, with the shipping
/// address it asks for when something ships.
pub const SHIPPING_FORM: [(&str, &str); 7] = [
    ("name", "Ada Buyer"),
    ("phone", "+15555550123"),
    ("line1", "1 Test Street"),
    ("city", "Springfield"),
    ("state", "IL"),
    ("postal_code", "62701"),
    ("country", "US"),
];
