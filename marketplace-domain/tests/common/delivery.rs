//! How the replay properties deliver facts: each once plus repeats, alone or inside cumulative
//! events, in an order shuffled by a seed so a failing case replays identically.
#![allow(clippy::as_conversions, dead_code)]

/// How a fact reaches us: alone, or inside a cumulative event carrying every refund so far (as
/// `charge.refunded` does), which repeats earlier refunds.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// The fact at this index, alone.
    Single(usize),
    /// Every refund up to this index, as one cumulative event.
    CumulativeRefunds(usize),
}

/// Every fact once plus `extra` repeats (indexes taken modulo the fact count), shuffled by `seed`.
pub fn deliveries(fact_count: usize, extra: &[(bool, usize)], seed: u64) -> Vec<Delivery> {
    let mut all: Vec<Delivery> = (0..fact_count).map(Delivery::Single).collect();
    for (cumulative, index) in extra {
        let index = index % fact_count;
        all.push(if *cumulative {
            Delivery::CumulativeRefunds(index)
        } else {
            Delivery::Single(index)
        });
    }
    // Fisher–Yates with SplitMix64, so a failing case replays identically.
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..all.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        all.swap(i, j);
    }
    all
}
