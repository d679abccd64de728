//! `roster-admin create-table` (`Store::create_table_if_missing`): the table it returns is
//! ACTIVE, with TTL on, and a second call leaves it alone (issue 18.5: TTL is turned on only
//! once the new table is ACTIVE).

use crate::common;

use aws_sdk_dynamodb::types::{TableStatus, TimeToLiveStatus};
use common::TestApp;
use roster::storage::Store;

#[tokio::test]
async fn a_created_table_is_active_with_ttl_on() {
    let t = TestApp::spawn().await;
    let client = t.app.store.client().clone();
    let name = format!("roster-table-{}", uuid::Uuid::new_v4().simple());
    let store = Store::new(client.clone(), &name);
    assert!(store.create_table_if_missing().await.unwrap());
    let table = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        table.table.and_then(|t| t.table_status),
        Some(TableStatus::Active)
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.time_to_live_status, Some(TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name.as_deref(), Some("ttl"));
    assert!(!store.create_table_if_missing().await.unwrap());
    client
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .unwrap();
}
