//! scripts/scale at a tiny size (300 members, 300 invitations, 300 audit entries): every
//! step the program measures still runs and every check it makes holds (pages whose cost
//! does not grow with depth, bulk changes, cleanup runs stopping at their deadlines, the
//! deletion to the end, counts equal to the lists), so CI keeps it working.

use crate::common::TestApp;

#[tokio::test]
async fn the_scale_program_runs_every_step_and_check_at_a_tiny_size() {
    // Held for the shared turn only (the program makes its own table and App).
    let _turn = TestApp::spawn().await;
    let report = roster_tests::scale::run(&roster_tests::scale::Sizes::tiny())
        .await
        .expect("the scale program runs");
    assert!(
        report.failures.is_empty(),
        "{}\nfailed: {:#?}",
        report.markdown,
        report.failures
    );
    for step in [
        "Seeding",
        "Pages of 50",
        "Bulk changes",
        "Member count against the list",
        "Cleanup through the due invitations",
        "Deleting the organization",
        "Cleanup finishing the deletion",
    ] {
        assert!(
            report.markdown.contains(step),
            "no {step} in:\n{}",
            report.markdown
        );
    }
}

#[tokio::test]
async fn the_scale_program_refuses_sizes_it_cannot_measure() {
    let mut sizes = roster_tests::scale::Sizes::tiny();
    sizes.members = 100;
    let refused = roster_tests::scale::run(&sizes).await;
    assert!(refused.is_err_and(|e| e.contains("at least 250 members")));
}
