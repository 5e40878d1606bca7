//! Demo traffic: customers writing in Traditional Chinese, Japanese, Thai and English, with
//! every message type, a few seconds apart, so a newcomer sees chat requests arrive at once.

use std::time::Duration;

use rand::seq::SliceRandom as _;
use rand::Rng as _;

use crate::customers::{self, Outgoing};
use crate::{deliver, Sim};

struct Persona {
    name: &'static str,
    language: &'static str,
    lines: &'static [&'static str],
}

const PERSONAS: &[Persona] = &[
    Persona {
        name: "王小明",
        language: "zh-TW",
        lines: &[
            "你好，我的訂單還沒到",
            "請問可以改地址嗎？",
            "謝謝你的幫忙！",
        ],
    },
    Persona {
        name: "佐藤 花子",
        language: "ja",
        lines: &[
            "こんにちは、返品について質問があります",
            "注文番号は 48213 です",
            "ありがとうございます",
        ],
    },
    Persona {
        name: "สมชาย ใจดี",
        language: "th",
        lines: &["สวัสดีครับ สินค้ายังไม่มาถึง", "ขอเปลี่ยนที่อยู่จัดส่งได้ไหมครับ", "ขอบคุณครับ"],
    },
    Persona {
        name: "Emily Carter",
        language: "en",
        lines: &[
            "Hi, my package says delivered but it isn't here",
            "Can I change my delivery slot?",
            "<img src=x onerror=alert(1)> is what your site showed me",
        ],
    },
    Persona {
        name: "陳美玲",
        language: "zh-TW",
        lines: &["會員點數怎麼查詢？", "附上收據照片"],
    },
    Persona {
        name: "Kenji Watanabe",
        language: "ja",
        lines: &["請求書を送ってください"],
    },
];

fn random_outgoing(persona: &Persona) -> Outgoing {
    let mut rng = rand::thread_rng();
    match rng.gen_range(0..10) {
        0 => Outgoing::Sticker {
            package_id: "446".into(),
            sticker_id: "1988".into(),
            keywords: vec!["thanks".into(), "bow".into()],
            resource_type: None,
        },
        1 => Outgoing::Image {
            content_base64: None,
            content_type: None,
        },
        2 => Outgoing::File {
            file_name: "receipt-2026-11.pdf".into(),
            content_base64: None,
        },
        3 => Outgoing::Location {
            title: Some("Taipei 101".into()),
            address: Some("No. 7, Section 5, Xinyi Rd, Taipei".into()),
            latitude: 25.0339,
            longitude: 121.5645,
        },
        4 => Outgoing::Audio {
            duration: 3_500,
            content_base64: None,
        },
        5 => Outgoing::Video {
            duration: 6_000,
            content_base64: None,
            content_size: None,
        },
        _ => Outgoing::Text {
            text: persona
                .lines
                .choose(&mut rng)
                .copied()
                .unwrap_or("hello")
                .into(),
            emojis: vec![],
        },
    }
}

/// Runs forever: customers follow, then write every `every` on average.
pub async fn run(sim: Sim, every: Duration) {
    let mut ids = Vec::new();
    for p in PERSONAS {
        let c = customers::add_customer(&sim, p.name, Some(p.language), None);
        let ev = customers::follow_event(&sim, &c.user_id, false);
        deliver::deliver(&sim, vec![ev], false).await;
        let (first, _) = customers::message_event(
            &sim,
            &c.user_id,
            &Outgoing::Text {
                text: p.lines[0].into(),
                emojis: vec![],
            },
        );
        deliver::deliver(&sim, vec![first], false).await;
        ids.push(c.user_id);
        tokio::time::sleep(every / 2).await;
    }
    loop {
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        tokio::time::sleep(every.mul_f64(jitter)).await;
        let i = rand::thread_rng().gen_range(0..ids.len());
        let out = random_outgoing(&PERSONAS[i]);
        let (ev, _) = customers::message_event(&sim, &ids[i], &out);
        let d = deliver::deliver(&sim, vec![ev], false).await;
        tracing::info!(
            customer = PERSONAS[i].name,
            status = d.status,
            "demo message delivered"
        );
    }
}
