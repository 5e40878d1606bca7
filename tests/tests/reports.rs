//! Reports on the real relay and the LINE simulator: a scripted morning of six customers and
//! two representatives with a clock moved by hand, then every figure of the report checked
//! against values worked out by hand below (the README's "Report figures" defines each).

mod floor;

use floor::{Floor, MONDAY_10_TAIPEI};
use linedesk_protocol::Role;
use linedesk_relay::reports::Reports;
use linedesk_tests::{CHANNEL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// The day of the script in the relay's report time zone (UTC): Monday 02:00 to 02:23 UTC.
const DAY: &str = "2026-11-30";

impl Floor {
    /// Moves the clock to `secs` after the script's start and runs routing's clock.
    async fn at(&self, secs: i64) {
        self.clock.set(MONDAY_10_TAIPEI + secs * 1_000);
        self.tick().await;
    }

    /// `who` writes `text` to the customer; answers how it went (`reply` or `push`).
    async fn write(&self, who: &str, customer: &str, text: &str) -> String {
        static SENDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let token = self.token(who).await;
        // LINE takes only UUIDs as retry keys.
        let n = SENDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outbox = format!("00000000-0000-4000-8000-{n:012}");
        let (status, body) = self
            .lb
            .api(
                Method::POST,
                "/api/send",
                &token,
                Some(
                    json!({"outboxId": outbox, "channelId": CHANNEL, "chatId": customer,
                            "messages": [{"type": "text", "text": text}]}),
                ),
            )
            .await;
        assert_eq!(status, 200, "{who} writes to {customer}: {body}");
        self.settle().await;
        body["via"].as_str().unwrap_or_default().to_owned()
    }

    /// The customer taps rating `n` of the survey of conversation `id`.
    async fn rates(&self, customer: &str, id: &Value, n: u8) {
        let id = id.as_str().expect("conversation id");
        self.lb
            .sim(
                &format!("/sim/customers/{customer}/postback"),
                json!({"data": format!("linedesk-survey:{id}:{n}")}),
            )
            .await;
        self.settle().await;
    }

    /// `token` does `action` on the customer's conversation; it must work.
    async fn does(&self, token: &str, customer: &str, action: &str, body: Option<Value>) -> Value {
        let c = self.conversation(customer).await;
        let (status, answer) = self.act(token, &c["id"], action, body).await;
        assert_eq!(
            status, 200,
            "{action} on {customer}'s conversation: {answer}"
        );
        c["id"].clone()
    }

    /// The report for the script's day, grouped `by`, as `token` may see it.
    async fn report(&self, token: &str, by: &str) -> (u16, Value) {
        Reports::settled(&self.lb.relay()).await;
        self.lb
            .api(
                Method::GET,
                &format!("/api/reports?from={DAY}&to={DAY}&by={by}"),
                token,
                None,
            )
            .await
    }
}

/// Seconds as the report's milliseconds.
const fn s(secs: i64) -> i64 {
    secs * 1_000
}

/// A percentile within the sketches' stated accuracy (1 %, and 1 ms of rounding).
fn near(got: &Value, want_ms: i64, what: &str) {
    let got = got
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: no value ({got})"));
    assert!(
        (got - want_ms).abs() <= want_ms / 100 + 1,
        "{what}: {got} ms, worked out by hand {want_ms} ms"
    );
}

fn row<'r>(report: &'r Value, key: &str) -> &'r Value {
    report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .unwrap_or_else(|| panic!("no row {key:?} in {report}"))
}

#[tokio::test]
async fn a_scripted_morning_adds_up_to_the_figures_worked_out_by_hand() {
    let f = Floor::open(&["rita", "bob"]).await;
    let (rita, bob) = (f.token("rita").await, f.token("bob").await);
    let (status, body) = f
        .put(
            "/api/queues/general",
            json!({"name": "General", "serviceLevel": {"percent": 80, "withinMs": 60_000}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    f.presence(&rita, "available").await;

    // Ann: offered to Rita, who takes her after 20 s and answers at 45 s (a free reply).
    let ann = f.customer("Ann", "en").await;
    f.says(&ann, "where is my order?").await;
    f.at(20).await;
    let ann_id = f.does(&rita, &ann, "accept", None).await;
    f.at(45).await;
    assert_eq!(f.write("rita", &ann, "Let me check").await, "reply");

    // Ben: Rita is away, Bob takes him after 40 s, answers after 130 s (too late for a reply:
    // a push), then hands him to Rita.
    f.at(55).await;
    f.presence(&rita, "away").await;
    f.presence(&bob, "available").await;
    f.at(60).await;
    let ben = f.customer("Ben", "en").await;
    f.says(&ben, "I was charged twice").await;
    f.at(100).await;
    f.does(&bob, &ben, "accept", None).await;
    f.at(190).await;
    assert_eq!(f.write("bob", &ben, "Sorry about that").await, "push");

    // Rita ends Ann (handled 180 s), closes 30 s later; Ann rates 5.
    f.at(200).await;
    f.does(&rita, &ann, "end", None).await;
    f.at(230).await;
    f.does(&rita, &ann, "close", None).await;
    f.flush().await;
    f.at(240).await;
    f.rates(&ann, &ann_id, 5).await;

    f.at(250).await;
    f.does(&bob, &ben, "transfer", Some(json!({"toUser": "rita"})))
        .await;
    // Rita ends Ben: handled 200 s from Bob's acceptance; wrap-up 10 s; no rating.
    f.at(300).await;
    f.does(&rita, &ben, "end", None).await;
    f.at(310).await;
    f.does(&rita, &ben, "close", None).await;

    // Cat: Bob takes her after 90 s (over the 60 s target), never writes; 110 s, wrap-up 20 s.
    f.at(400).await;
    let cat = f.customer("Cat", "en").await;
    f.says(&cat, "hello").await;
    f.at(490).await;
    f.does(&bob, &cat, "accept", None).await;
    f.at(600).await;
    f.does(&bob, &cat, "end", None).await;
    f.at(620).await;
    f.does(&bob, &cat, "close", None).await;

    // Dan: offered to Bob, who rejects him; closed by the admin before anyone takes him.
    f.at(700).await;
    let dan = f.customer("Dan", "en").await;
    f.says(&dan, "spam spam").await;
    f.at(720).await;
    f.does(&bob, &dan, "reject", None).await;
    f.at(750).await;
    f.does(&f.admin, &dan, "close", Some(json!({"reason": "spam"})))
        .await;

    // Eve: Rita takes her after 5 s and answers at 6 s; 95 s, wrap-up 5 s; Eve rates 3.
    f.at(790).await;
    f.presence(&bob, "away").await;
    f.presence(&rita, "available").await;
    f.at(800).await;
    let eve = f.customer("Eve", "en").await;
    f.says(&eve, "quick question").await;
    f.at(805).await;
    let eve_id = f.does(&rita, &eve, "accept", None).await;
    f.at(806).await;
    assert_eq!(f.write("rita", &eve, "Sure").await, "reply");
    f.at(900).await;
    f.does(&rita, &eve, "end", None).await;
    f.at(905).await;
    f.does(&rita, &eve, "close", None).await;
    f.flush().await;
    f.at(910).await;
    f.rates(&eve, &eve_id, 3).await;

    // Fay: nobody is available; she waits 200 s; Rita answers at 210 s (a push); 100 s,
    // wrap-up 20 s; Fay rates 4.
    f.at(990).await;
    f.presence(&rita, "away").await;
    f.at(1000).await;
    let fay = f.customer("Fay", "en").await;
    f.says(&fay, "anyone there?").await;
    f.at(1190).await;
    f.presence(&rita, "available").await;
    f.at(1200).await;
    let fay_id = f.does(&rita, &fay, "accept", None).await;
    f.at(1210).await;
    assert_eq!(f.write("rita", &fay, "Here now").await, "push");
    f.at(1300).await;
    f.does(&rita, &fay, "end", None).await;
    f.at(1320).await;
    f.does(&rita, &fay, "close", None).await;
    f.flush().await;
    f.at(1330).await;
    f.rates(&fay, &fay_id, 4).await;

    // By hand. Waits: Ann 20, Ben 40, Cat 90, Eve 5, Fay 200 s; sorted 5 20 40 90 200: the
    // median is the value at rank ⌊0.5·4⌋ = 2 (40 s), the 90th percentile at ⌊0.9·4⌋ = 3
    // (90 s). First responses: Ann 45, Ben 130, Eve 6, Fay 210 s; sorted 6 45 130 210:
    // ranks 1 and 2 (45 s, 130 s). Within the 60 s target: Ann, Ben, Eve (3 of 5).
    let (status, day) = f.report(&f.admin, "day").await;
    assert_eq!(status, 200, "{day}");
    let total = &day["total"];
    assert_eq!(day["timeZone"], "UTC");
    assert_eq!(row(&day, DAY)["received"], 6);
    assert_eq!(total["received"], 6);
    assert_eq!(total["accepted"], 5);
    assert_eq!(total["answered"], 4, "Ann, Ben, Eve, Fay");
    assert_eq!(total["unanswered"], 2, "Cat and Dan");
    assert_eq!(total["transfers"], 1);
    assert_eq!(total["declines"], 1);
    assert_eq!(total["targeted"], 5);
    assert_eq!(total["withinTarget"], 3);
    near(&total["waitMedianMs"], s(40), "median wait");
    near(&total["waitP90Ms"], s(90), "90th percentile wait");
    near(
        &total["firstResponseMedianMs"],
        s(45),
        "median first response",
    );
    near(
        &total["firstResponseP90Ms"],
        s(130),
        "90th percentile first response",
    );
    // Handle: 180 + 200 + 110 + 95 + 100 = 685 s over 5; wrap-up 30 + 10 + 20 + 5 + 20 = 85 s.
    assert_eq!(total["handleAvgMs"], s(137));
    assert_eq!(total["wrapUpAvgMs"], s(17));
    assert_eq!(
        total["surveysSent"], 5,
        "everyone a representative had, not Dan"
    );
    assert_eq!(total["surveysAnswered"], 3);
    assert_eq!(total["ratingAvg"], 4.0);

    // Per representative, each figure to whoever did it.
    let (_, agents) = f.report(&f.admin, "agent").await;
    let r = row(&agents, "rita");
    assert_eq!(r["accepted"], 3, "Ann, Eve, Fay");
    assert_eq!(r["answered"], 4, "she closed Ann, Ben, Eve, Fay");
    near(&r["waitMedianMs"], s(20), "Rita's median wait (5 20 200)");
    near(
        &r["firstResponseMedianMs"],
        s(45),
        "Rita's median first response (6 45 210)",
    );
    // (180 + 200 + 95 + 100) / 4 = 143.75 s; (30 + 10 + 5 + 20) / 4 = 16.25 s.
    assert_eq!(r["handleAvgMs"], 143_750);
    assert_eq!(r["wrapUpAvgMs"], 16_250);
    assert_eq!(r["surveysSent"], 4);
    assert_eq!(r["surveysAnswered"], 3, "3 of 4 answered");
    assert_eq!(r["ratingAvg"], 4.0, "(5 + 3 + 4) / 3");
    assert_eq!(r["sentFree"], 2, "Ann and Eve by reply");
    assert_eq!(r["sentMetered"], 1, "Fay by push");
    assert_eq!(r["transfers"], 0);
    let b = row(&agents, "bob");
    assert_eq!(b["accepted"], 2, "Ben, Cat");
    assert_eq!(b["unanswered"], 1, "Cat");
    assert_eq!(b["answered"], 0, "he gave Ben to Rita before the end");
    assert_eq!(b["transfers"], 1);
    assert_eq!(b["declines"], 1, "Dan");
    assert_eq!(r["declines"], 0);
    near(&b["waitMedianMs"], s(40), "Bob's median wait (40 90)");
    near(
        &b["firstResponseMedianMs"],
        s(130),
        "Bob's first response to Ben",
    );
    assert_eq!(b["handleAvgMs"], s(110));
    assert_eq!(b["surveysSent"], 1);
    assert_eq!(b["sentFree"], 0);
    assert_eq!(b["sentMetered"], 1);
    let nobody = row(&agents, "");
    assert_eq!(
        nobody["received"], 6,
        "a conversation arrives before anyone has it"
    );
    assert_eq!(nobody["unanswered"], 1, "Dan");

    // By queue: everything in General.
    let (_, queues) = f.report(&f.admin, "queue").await;
    assert_eq!(row(&queues, "general")["accepted"], 5);

    // Who may read it: a supervisor sees only the queues she supervises; a representative
    // nothing at all.
    f.lb.add_user("sam", Role::Supervisor, PASSWORD);
    let sam = f.token("sam").await;
    let (status, mine) = f.report(&sam, "agent").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["rows"], json!([]), "Sam supervises no queue yet");
    assert_eq!(mine["total"]["received"], 0);
    let (status, body) = f
        .put(
            "/api/queues/general",
            json!({"name": "General", "supervisors": ["sam"],
                   "serviceLevel": {"percent": 80, "withinMs": 60_000}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, supervised) = f.report(&sam, "agent").await;
    assert_eq!(row(&supervised, "rita")["accepted"], 3);
    assert_eq!(supervised["total"]["received"], 6);
    let (status, body) = f.report(&rita, "agent").await;
    assert_eq!(status, 403, "representatives read no reports: {body}");
}

#[tokio::test]
async fn a_report_refuses_a_bad_range_naming_the_field() {
    let f = Floor::open(&["rita"]).await;
    for (query, field) in [
        ("from=2026-13-01&to=2026-12-01&by=day", "from"),
        ("from=2026-12-01&to=yesterday&by=day", "to"),
        ("from=2026-12-02&to=2026-12-01&by=day", "to"),
        ("from=2020-01-01&to=2026-12-01&by=day", "to"),
        ("to=2026-12-01&by=day", "from"),
        ("from=2026-12-01&to=2026-12-01&by=week", "by"),
    ] {
        let (status, body) =
            f.lb.api(
                Method::GET,
                &format!("/api/reports?{query}"),
                &f.admin,
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["invalid"][0]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn a_conversation_woken_from_waiting_is_neither_a_transfer_nor_a_decline() {
    let f = Floor::open(&["rita"]).await;
    let rita = f.token("rita").await;
    f.presence(&rita, "available").await;
    let ann = f.customer("Ann", "en").await;
    f.says(&ann, "hello").await;
    f.at(10).await;
    f.does(&rita, &ann, "accept", None).await;
    f.at(20).await;
    f.does(&rita, &ann, "wait", None).await;
    // The customer writes again: back to Open, offered to Rita first, who takes it again.
    f.at(30).await;
    f.says(&ann, "any news?").await;
    f.at(40).await;
    f.does(&rita, &ann, "accept", None).await;
    let (status, report) = f.report(&f.admin, "agent").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["total"]["transfers"], 0, "{report}");
    assert_eq!(report["total"]["declines"], 0, "{report}");
    assert_eq!(report["total"]["accepted"], 1, "the first acceptance only");
}
