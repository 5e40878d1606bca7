//! Suggested answers from the team's own history: a question asked in other words finds what
//! the team answered before, in English and in Chinese; unrelated answers are not offered.

use super::*;

/// A customer asks `question`, Rita answers `answer` and closes the conversation.
async fn answered(w: &World, core: &Core, name: &str, lang: &str, question: &str, answer: &str) {
    let user = w.customer(name, lang).await;
    w.say(&user, json!({"type": "text", "text": question}))
        .await;
    let conv = eventually(&format!("{name}'s question cached"), async || {
        core.conversations(50)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user && c.unread >= 1)
    })
    .await;
    accept(core, conv.id).await;
    core.send_text(conv.id, answer).await.expect("queued");
    let episode = eventually("answered", async || {
        let c = core
            .conversations(50)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.id == conv.id)?;
        let m = core.messages(conv.id, None, 50).await.ok()?;
        m.iter()
            .any(|m| m.direction == "out" && m.status.as_deref() == Some("sent"))
            .then_some(c.routing?.id)
    })
    .await;
    core.act(&episode, "close", json!({}))
        .await
        .expect("closed");
}

/// A customer asks `question`; Rita takes the conversation (a representative's console holds
/// only the chats offered to her or hers, so the next customer can be offered to her).
async fn asks(w: &World, core: &Core, name: &str, lang: &str, question: &str) -> i64 {
    let user = w.customer(name, lang).await;
    w.say(&user, json!({"type": "text", "text": question}))
        .await;
    let id = eventually(&format!("{name}'s question cached"), async || {
        core.conversations(50)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.chat_id == user && c.unread >= 1)
            .map(|c| c.id)
    })
    .await;
    accept(core, id).await;
    id
}

#[tokio::test]
async fn a_question_in_other_words_finds_the_teams_past_answer() {
    let w = world().await;
    let core = w.console(Arc::default()).await;
    core.sign_in(&w.relay_url(), "rita", PASSWORD)
        .await
        .expect("sign in");
    online(&core).await;
    answered(
        &w,
        &core,
        "Ann",
        "en",
        "When will my parcel arrive?",
        "Parcels arrive within 2 to 3 working days of the order.",
    )
    .await;
    answered(
        &w,
        &core,
        "Ben",
        "en",
        "Can I change the delivery address on my order?",
        "Yes: tell me the new address and I will update the order.",
    )
    .await;
    answered(
        &w,
        &core,
        "王小明",
        "zh-TW",
        "請問我的包裹什麼時候會到？",
        "包裹會在下單後兩到三個工作天內送達。",
    )
    .await;

    // Different words, same question.
    let cleo = asks(
        &w,
        &core,
        "Cleo",
        "en",
        "My parcel still hasn't arrived, it's been days",
    )
    .await;
    let got = core.suggest(cleo).await.expect("suggestions");
    assert_eq!(
        got.first().map(|s| s.answer.as_str()),
        Some("Parcels arrive within 2 to 3 working days of the order."),
        "{got:?}"
    );
    assert_eq!(got[0].question, "When will my parcel arrive?");
    assert_eq!(got[0].sent_by.as_deref(), Some("rita"));
    assert!(
        got.iter().all(|s| !s.answer.contains("包裹")),
        "a Chinese answer shares no words: {got:?}"
    );

    let lin = asks(&w, &core, "林小姐", "zh-TW", "包裹到現在還沒收到").await;
    let got = core.suggest(lin).await.expect("suggestions");
    assert_eq!(
        got.first().map(|s| s.answer.as_str()),
        Some("包裹會在下單後兩到三個工作天內送達。"),
        "{got:?}"
    );

    // Nothing like it was ever asked: nothing is suggested.
    let dan = asks(&w, &core, "Dan", "en", "Do you sell gift vouchers?").await;
    assert_eq!(core.suggest(dan).await.expect("suggestions"), []);
    core.shutdown().await;
}
