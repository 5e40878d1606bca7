//! The simulator's control API (`/sim/...`), for tests and the demo. Not part of LINE.
//!
//! | call | does |
//! |---|---|
//! | `POST /sim/customers {displayName, language?, pictureUrl?, follow?}` | new customer (follows by default: sends `follow`) |
//! | `GET /sim/customers` | all customers |
//! | `POST /sim/customers/{id}/messages {type, …}` | the customer sends text, sticker, image, video, audio, file or location |
//! | `POST /sim/customers/{id}/follow {unblocked?}`, `/unfollow` | follow / block |
//! | `POST /sim/customers/{id}/unsend {messageId}` | unsend (content turns 410) |
//! | `POST /sim/customers/{id}/postback {data}` | a postback |
//! | `POST /sim/customers/{id}/burst {count, order}` | `count` texts delivered one per POST, `reversed` or `shuffled` |
//! | `GET /sim/customers/{id}/received` | what the bot sent them (reply or push, retry key) |
//! | `GET /sim/sent` | everything the bot sent |
//! | `POST /sim/redeliver {webhookEventId, duplicate?}` | redeliver (or duplicate) an event |
//! | `POST /sim/faults {path, status?, delayMs?, count?, after?, bytesPerSecond?}`, `DELETE /sim/faults` | inject faults (`bytesPerSecond`: a slow body) |
//! | `GET/POST /sim/settings` | reply-token TTL, content TTL, transcoding time, quota |
//! | `GET /sim/deliveries` | webhook POSTs and their statuses |
//! | `POST /sim/recording {on}`, `GET /sim/recorded` | record API answers |
//! | `GET /sim/signals` | loading animations and mark-as-read calls LINE accepted |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::seq::SliceRandom as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::customers::{self, Outgoing};
use crate::deliver;
use crate::state::{Fault, Settings};
use crate::Sim;

/// The control routes.
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/sim/customers", post(create_customer).get(list_customers))
        .route("/sim/customers/{id}/messages", post(send_message))
        .route("/sim/customers/{id}/follow", post(follow))
        .route("/sim/customers/{id}/unfollow", post(unfollow))
        .route("/sim/customers/{id}/unsend", post(unsend))
        .route("/sim/customers/{id}/postback", post(postback))
        .route("/sim/customers/{id}/burst", post(burst))
        .route("/sim/customers/{id}/received", get(received))
        .route("/sim/sent", get(sent))
        .route("/sim/redeliver", post(redeliver))
        .route("/sim/faults", post(add_fault).delete(clear_faults))
        .route("/sim/settings", get(get_settings).post(set_settings))
        .route("/sim/deliveries", get(deliveries))
        .route("/sim/recording", post(recording))
        .route("/sim/recorded", get(recorded))
        .route("/sim/signals", get(signals))
        .with_state(sim)
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no {what}")})),
    )
        .into_response()
}

fn known(sim: &Sim, id: &str) -> bool {
    sim.state().customers.contains_key(id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCustomer {
    display_name: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    picture_url: Option<String>,
    #[serde(default = "yes")]
    follow: bool,
}

fn yes() -> bool {
    true
}

async fn create_customer(State(sim): State<Sim>, Json(req): Json<NewCustomer>) -> Response {
    let customer = customers::add_customer(
        &sim,
        &req.display_name,
        req.language.as_deref(),
        req.picture_url.as_deref(),
    );
    let delivery = if req.follow {
        let ev = customers::follow_event(&sim, &customer.user_id, false);
        Some(deliver::deliver(&sim, vec![ev], false).await)
    } else {
        None
    };
    let customer = sim
        .state()
        .customers
        .get(&customer.user_id)
        .cloned()
        .unwrap_or(customer);
    Json(json!({"customer": customer, "delivery": delivery})).into_response()
}

async fn list_customers(State(sim): State<Sim>) -> Response {
    let st = sim.state();
    let list: Vec<_> = st
        .customer_order
        .iter()
        .filter_map(|id| st.customers.get(id))
        .collect();
    Json(json!(list)).into_response()
}

async fn send_message(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(out): Json<Outgoing>,
) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let (event, message_id) = customers::message_event(&sim, &id, &out);
    let reply_token = event["replyToken"].clone();
    let webhook_event_id = event["webhookEventId"].clone();
    let delivery = deliver::deliver(&sim, vec![event], false).await;
    Json(json!({"messageId": message_id, "webhookEventId": webhook_event_id, "replyToken": reply_token, "delivery": delivery}))
        .into_response()
}

#[derive(Deserialize, Default)]
struct FollowReq {
    #[serde(default)]
    unblocked: bool,
}

async fn follow(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    body: Option<Json<FollowReq>>,
) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let ev = customers::follow_event(&sim, &id, body.map(|b| b.0).unwrap_or_default().unblocked);
    Json(json!({"delivery": deliver::deliver(&sim, vec![ev], false).await})).into_response()
}

async fn unfollow(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let ev = customers::unfollow_event(&sim, &id);
    Json(json!({"delivery": deliver::deliver(&sim, vec![ev], false).await})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnsendReq {
    message_id: String,
}

async fn unsend(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(req): Json<UnsendReq>,
) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let ev = customers::unsend_event(&sim, &id, &req.message_id);
    Json(json!({"delivery": deliver::deliver(&sim, vec![ev], false).await})).into_response()
}

#[derive(Deserialize)]
struct PostbackReq {
    data: String,
}

async fn postback(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(req): Json<PostbackReq>,
) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let ev = customers::postback_event(&sim, &id, &req.data);
    Json(json!({"delivery": deliver::deliver(&sim, vec![ev], false).await})).into_response()
}

#[derive(Deserialize)]
struct BurstReq {
    count: usize,
    #[serde(default)]
    order: Option<String>,
}

/// Out-of-order delivery: texts numbered by send time, POSTed in another order.
async fn burst(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(req): Json<BurstReq>,
) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    let mut events: Vec<Value> = (0..req.count.min(1000))
        .map(|i| {
            customers::message_event(
                &sim,
                &id,
                &Outgoing::Text {
                    text: format!("burst {i}"),
                    emojis: vec![],
                },
            )
            .0
        })
        .collect();
    match req.order.as_deref() {
        Some("reversed") => events.reverse(),
        Some("shuffled") => events.shuffle(&mut rand::thread_rng()),
        _ => {}
    }
    let mut results = Vec::new();
    for ev in events {
        results.push(deliver::deliver(&sim, vec![ev], false).await);
    }
    Json(json!({"deliveries": results})).into_response()
}

async fn received(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    if !known(&sim, &id) {
        return not_found("customer");
    }
    Json(json!(sim
        .state()
        .received
        .get(&id)
        .cloned()
        .unwrap_or_default()))
    .into_response()
}

async fn sent(State(sim): State<Sim>) -> Response {
    let st = sim.state();
    let all: Vec<Value> = st
        .received
        .iter()
        .flat_map(|(user, list)| list.iter().map(move |r| json!({"to": user, "received": r})))
        .collect();
    Json(json!({"messages": all, "pushCount": st.push_count})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedeliverReq {
    webhook_event_id: String,
    #[serde(default)]
    duplicate: bool,
}

async fn redeliver(State(sim): State<Sim>, Json(req): Json<RedeliverReq>) -> Response {
    match deliver::resend(&sim, &req.webhook_event_id, !req.duplicate).await {
        Some(d) => Json(json!({"delivery": d})).into_response(),
        None => not_found("event with this webhookEventId"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultReq {
    path: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    after: bool,
    #[serde(default)]
    bytes_per_second: Option<u64>,
}

async fn add_fault(State(sim): State<Sim>, Json(req): Json<FaultReq>) -> Response {
    sim.state().faults.push(Fault {
        path: req.path,
        status: req.status,
        message: req.message,
        delay_ms: req.delay_ms,
        count: req.count.unwrap_or(1),
        after: req.after,
        bytes_per_second: req.bytes_per_second,
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.state().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_settings(State(sim): State<Sim>) -> Response {
    Json(json!(sim.state().settings)).into_response()
}

async fn set_settings(State(sim): State<Sim>, Json(patch): Json<Value>) -> Response {
    let mut st = sim.state();
    let mut current = json!(st.settings);
    if let (Some(cur), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            cur.insert(k.clone(), v.clone());
        }
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(s) => {
            st.settings = s;
            Json(json!(st.settings)).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn deliveries(State(sim): State<Sim>) -> Response {
    Json(json!(sim.state().deliveries)).into_response()
}

#[derive(Deserialize)]
struct RecordingReq {
    on: bool,
}

async fn recording(State(sim): State<Sim>, Json(req): Json<RecordingReq>) -> Response {
    sim.state().recorded = req.on.then(Vec::new);
    StatusCode::NO_CONTENT.into_response()
}

async fn signals(State(sim): State<Sim>) -> Response {
    Json(json!(sim.state().signals.clone())).into_response()
}

async fn recorded(State(sim): State<Sim>) -> Response {
    Json(json!(sim.state().recorded.clone().unwrap_or_default())).into_response()
}
