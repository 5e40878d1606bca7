//! Webhook delivery: sign the exact body bytes with the channel secret and POST them.
//! Every event sent is kept so it can be redelivered (same `webhookEventId`, `isRedelivery`
//! true) or duplicated (byte-identical copy), as LINE does.

use serde_json::{json, Value};

use crate::state::Delivery;
use crate::{now_ms, Sim};

/// POSTs `{"destination", "events"}` to `url`, signed; returns the status.
pub async fn post_body(sim: &Sim, url: &str, events: Vec<Value>) -> Result<u16, reqwest::Error> {
    let (destination, secret) = {
        let st = sim.state();
        (
            st.channel.bot_user_id.clone(),
            st.channel.channel_secret.clone(),
        )
    };
    let body =
        serde_json::to_vec(&json!({"destination": destination, "events": events})).expect("json");
    let signature = linedesk_line::signature::sign(&secret, &body);
    let resp = sim
        .http()
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "LineBotWebhook/2.0")
        .header("x-line-signature", signature)
        .body(body)
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

/// Sends events to the configured webhook and records the delivery.
pub async fn deliver(sim: &Sim, events: Vec<Value>, redelivery: bool) -> Delivery {
    let url = {
        let mut st = sim.state();
        for e in &events {
            if let Some(id) = e.get("webhookEventId").and_then(Value::as_str) {
                st.sent_events
                    .entry(id.to_owned())
                    .or_insert_with(|| e.clone());
            }
        }
        st.webhook_url.clone().filter(|_| st.webhook_active)
    };
    let ids = events
        .iter()
        .filter_map(|e| {
            e.get("webhookEventId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let status = match url {
        Some(url) => post_body(sim, &url, events).await.unwrap_or(0),
        None => 0,
    };
    let delivery = Delivery {
        webhook_event_ids: ids,
        status,
        redelivery,
        at: now_ms(),
    };
    sim.state().deliveries.push(delivery.clone());
    delivery
}

/// Sends an earlier event again: a redelivery (flagged) or a plain duplicate.
pub async fn resend(sim: &Sim, webhook_event_id: &str, as_redelivery: bool) -> Option<Delivery> {
    let mut event = sim.state().sent_events.get(webhook_event_id).cloned()?;
    if as_redelivery {
        event["deliveryContext"] = json!({"isRedelivery": true});
    }
    Some(deliver(sim, vec![event], as_redelivery).await)
}
