//! Notifications reach a real D-Bus notification server. The test owns
//! `org.freedesktop.Notifications` on the private session bus (scripts/test.sh runs the suite
//! in `dbus-run-session`) and captures every `Notify` call.

use std::collections::HashMap;
use std::sync::mpsc;

use linedesk_core::notify::Alert;
use zbus::OwnedVariant;

struct FakeServer {
    calls: mpsc::Sender<(String, String, String, Vec<String>)>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let _ = self.calls.send((app_name, summary, body, actions));
        7
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "body-markup".into(), "actions".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "fake".into(),
            "linedesk-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

#[test]
fn a_new_chat_request_becomes_an_os_notification_with_escaped_customer_text() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run inside dbus-run-session (scripts/test.sh does)"
    );
    let (tx, rx) = mpsc::channel();
    let _conn = zbus::block_on(async {
        zbus::connection::Builder::session()
            .name("org.freedesktop.Notifications")
            .serve_at("/org/freedesktop/Notifications", FakeServer { calls: tx })
            .build()
            .await
    })
    .expect("own the notification service on the private bus");
    let alert = Alert {
        conversation_id: 3,
        title: "王小明".into(),
        body: "<img src=x onerror=alert(1)> 我的訂單還沒到".into(),
        request: true,
        offer: Some(linedesk_core::notify::OfferAlert {
            id: "01J0000000000000000000000".into(),
            expires_at: linedesk_core::now_ms() + 120_000,
        }),
    };
    linedesk_app::notifier::notification(&alert, &Default::default())
        .show()
        .expect("notification sent over D-Bus");
    let (app, summary, body, actions) = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("Notify called");
    assert_eq!(app, "linedesk");
    assert_eq!(summary, "王小明", "the customer's name is the title");
    assert_eq!(
        body, "&lt;img src=x onerror=alert(1)&gt; 我的訂單還沒到",
        "markup escaped for body-markup servers"
    );
    assert!(
        actions.contains(&"default".to_string()),
        "clicking opens the conversation"
    );
    for (key, label) in [("accept", "Accept"), ("reject", "Reject")] {
        let at = actions.iter().position(|a| a == key);
        assert!(
            at.is_some_and(|i| actions.get(i + 1).map(String::as_str) == Some(label)),
            "an offer is answered from the notification: {actions:?}"
        );
    }
}
