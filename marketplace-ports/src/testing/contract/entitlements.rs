//! Entitlements: granted once per line, counted and logged per download, revoked and given back;
//! sellers' download counts follow the counted downloads only.

use marketplace_domain::entitlements::Entitlement;
use marketplace_domain::ids::AssetId;
use marketplace_domain::pagination::PageRequest;

use super::shopping::{fixture, insert, order};
use super::{Subject, at, id};
use crate::ports::{DownloadRecord, EntitlementRecord};

/// A line's entitlement is granted once (a second grant keeps the first), counts and logs each
/// counted download, is revoked and given back; staff's downloads are logged, not counted.
pub async fn entitlements_are_granted_once_counted_logged_and_revoked(s: Subject) {
    let f = fixture(&s).await;
    let placed = order(f.buyer, &f.print, &f.file, 2);
    insert(&s, &placed).await;
    let file_line = placed
        .lines()
        .iter()
        .find(|l| l.product_id == f.file.id)
        .unwrap()
        .clone();
    let grant = |limit: u32| EntitlementRecord {
        order_item_id: file_line.id,
        order_id: placed.id,
        product_id: f.file.id,
        seller_id: f.file.seller_id,
        entitlement: Entitlement {
            granted_at: at(5),
            expires_at: Some(at(500)),
            download_limit: Some(limit),
            downloads: 0,
            revoked: false,
        },
    };
    let mut tx = s.uow.begin().await.unwrap();
    let store = tx.entitlements().unwrap();
    store.grant_entitlements(&[grant(3)]).await.unwrap();
    store.grant_entitlements(&[grant(9)]).await.unwrap();
    assert_eq!(
        store
            .entitlement_for_update(placed.id, f.print.id)
            .await
            .unwrap(),
        None,
        "a printed line has no entitlement"
    );
    let download = |n: i64, counted: bool| DownloadRecord {
        order_item_id: file_line.id,
        order_id: placed.id,
        asset_id: AssetId::from_uuid(id()),
        user_id: Some(f.buyer),
        bytes: 1000 + n,
        downloaded_at: at(10 + n),
        counted,
    };
    store.record_download(&download(1, true)).await.unwrap();
    store.record_download(&download(2, false)).await.unwrap();
    store.record_download(&download(3, true)).await.unwrap();
    let locked = store
        .entitlement_for_update(placed.id, f.file.id)
        .await
        .unwrap()
        .expect("granted");
    assert_eq!(
        locked.entitlement,
        Entitlement {
            downloads: 2,
            ..grant(3).entitlement
        },
        "the first grant stands; only counted downloads count"
    );
    tx.commit().await.unwrap();

    let reads = s.queries.entitlements().unwrap();
    let log = reads
        .order_downloads(placed.id, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(log.total, 3, "every download is logged");
    let bytes: Vec<i64> = log.items.iter().map(|d| d.bytes).collect();
    assert_eq!(bytes, [1003, 1002, 1001], "newest first");
    assert_eq!(
        log.items[1],
        DownloadRecord {
            asset_id: log.items[1].asset_id,
            ..download(2, false)
        },
        "a download comes back as it was logged"
    );
    let counts = reads
        .seller_downloads(f.file.seller_id, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(counts.total, 1);
    assert_eq!(
        (counts.items[0].product_id, counts.items[0].downloads),
        (f.file.id, 2)
    );
    assert_eq!(
        reads
            .seller_downloads(f.print.seller_id, PageRequest::first())
            .await
            .unwrap()
            .total,
        0
    );

    // Revoked, then given back (a refund that failed).
    let mut tx = s.uow.begin().await.unwrap();
    tx.entitlements()
        .unwrap()
        .set_entitlement_revoked(file_line.id, Some(at(50)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let revoked = reads.order_entitlements(placed.id).await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].entitlement.revoked);
    let mut tx = s.uow.begin().await.unwrap();
    tx.entitlements()
        .unwrap()
        .set_entitlement_revoked(file_line.id, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        !reads.order_entitlements(placed.id).await.unwrap()[0]
            .entitlement
            .revoked
    );
}
