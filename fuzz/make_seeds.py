#!/usr/bin/env python3
"""Writes the committed seed corpora in fuzz/corpus/<target>/ (run from anywhere: python3 fuzz/make_seeds.py).

Seeds are small, hand-written inputs of every shape each target reads, so the fuzzer starts
from valid inputs instead of finding JSON or PNG by chance. Webhook bodies follow LINE's
documented webhook event objects
(https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects); signatures are
computed here with HMAC-SHA256 as LINE does
(https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/). Re-running
rewrites the same files byte for byte.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

BOT = "U" + "8e742f61d673b39c7fff3cecb7536ef0"
USER = "U" + "3b7f0a6c2d9e41f58a0b6c7d8e9f0a1b"
USER2 = "U" + "c0ffee00112233445566778899aabbcc"
GROUP = "C" + "4e2a9d1b7c3f40a6b8d5e1f2a3b4c5d6"
ROOM = "R" + "9a8b7c6d5e4f30211a2b3c4d5e6f7081"
CHANNEL = "1650000000"
T = 1795000000000


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def compact(value, ascii_only=False):
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"))


def event(kind, n, source=None, reply=True, **fields):
    ev = {"type": kind, "timestamp": T + n, "mode": "active",
          "webhookEventId": "01JZ0000000000000000000%03d" % n,
          "deliveryContext": {"isRedelivery": False}}
    if source is not None:
        ev["source"] = source
    if reply:
        ev["replyToken"] = "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA%03d" % n
    ev.update(fields)
    return ev


def user(u=USER):
    return {"type": "user", "userId": u}


def group(u=USER):
    return {"type": "group", "groupId": GROUP, "userId": u}


def room(u=USER):
    return {"type": "room", "roomId": ROOM, "userId": u}


def body(*events):
    return {"destination": BOT, "events": list(events)}


# --- webhook_body -----------------------------------------------------------------------------

def webhook_seeds():
    line = {"type": "line"}
    seeds = {
        "message-text": body(event("message", 1, user(), message={
            "id": "468789577898262530", "type": "text", "quoteToken": "q3Plxr4AgKd",
            "markAsReadToken": "30yhdy232", "text": "Hello, world! (love)",
            "emojis": [{"index": 14, "length": 6, "productId": "5ac1bfd5040ab15980c9b435",
                        "emojiId": "001"}]})),
        "message-text-group-mention": body(event("message", 2, group(), message={
            "id": "444573844083572737", "type": "text", "quoteToken": "q3Plxr4AgKd",
            "text": "@All @example Good Morning!! (love)",
            "mention": {"mentionees": [
                {"index": 0, "length": 4, "type": "all"},
                {"index": 5, "length": 8, "userId": USER2, "type": "user", "isSelf": False}]},
            "quotedMessageId": "468789532432007169"})),
        "message-image": body(event("message", 3, user(), message={
            "id": "354718705033693859", "type": "image", "quoteToken": "q3Plxr4AgKd",
            "contentProvider": line, "imageSet": {"id": "E005D41A7288F41B65593ED38FF6E9834B046AB36A37921A56BC236F13A91855", "index": 1, "total": 2}})),
        "message-image-external": body(event("message", 4, room(), message={
            "id": "354718705033693860", "type": "image", "quoteToken": "q3Plxr4AgKe",
            "contentProvider": {"type": "external", "originalContentUrl": "https://example.com/original.jpg",
                                "previewImageUrl": "https://example.com/preview.jpg"}})),
        "message-video": body(event("message", 5, user(), message={
            "id": "325708", "type": "video", "quoteToken": "q3Plxr4AgKd", "duration": 60000,
            "contentProvider": {"type": "external", "originalContentUrl": "https://example.com/original.mp4",
                                "previewImageUrl": "https://example.com/preview.jpg"}})),
        "message-audio": body(event("message", 6, user(), message={
            "id": "325709", "type": "audio", "duration": 60000, "contentProvider": line})),
        "message-file": body(event("message", 7, user(), message={
            "id": "325710", "type": "file", "fileName": "報告 2026.pdf", "fileSize": 2138})),
        "message-location": body(event("message", 8, user(), message={
            "id": "325711", "type": "location", "title": "my location",
            "address": "1-3 Kioicho, Chiyoda-ku, Tokyo, 102-8282, Japan",
            "latitude": 35.67966, "longitude": 139.73669})),
        "message-sticker": body(event("message", 9, user(), message={
            "id": "1501597916", "type": "sticker", "quoteToken": "q3Plxr4AgKd",
            "stickerId": "52002738", "packageId": "11537", "stickerResourceType": "ANIMATION",
            "keywords": ["cony", "sally", "Staring", "hi", "whatsup"]})),
        "message-sticker-message": body(event("message", 10, group(), message={
            "id": "1501597917", "type": "sticker", "quoteToken": "q3Plxr4AgKf",
            "stickerId": "738839", "packageId": "12287", "stickerResourceType": "MESSAGE",
            "keywords": ["Anticipation"], "text": "Let's hang out this weekend!"})),
        "message-edited": body(event("messageEdited", 11, group(), message={
            "id": "444573844083572737", "type": "text", "quoteToken": "yHAz4Ua2wx",
            "text": "Good Morning!! (edited)"})),
        "unsend": body(event("unsend", 12, group(), reply=False,
                             unsend={"messageId": "325708"})),
        "follow": body(event("follow", 13, user(), follow={"isUnblocked": False})),
        "follow-unblocked": body(event("follow", 14, user(), follow={"isUnblocked": True})),
        "unfollow": body(event("unfollow", 15, user(), reply=False)),
        "join": body(event("join", 16, {"type": "group", "groupId": GROUP})),
        "leave": body(event("leave", 17, {"type": "group", "groupId": GROUP}, reply=False)),
        "member-joined": body(event("memberJoined", 18, {"type": "group", "groupId": GROUP},
                                    joined={"members": [user(), user(USER2)]})),
        "member-left": body(event("memberLeft", 19, {"type": "room", "roomId": ROOM}, reply=False,
                                  left={"members": [user()]})),
        "postback-datetime": body(event("postback", 20, user(), postback={
            "data": "storeId=12345", "params": {"datetime": "2026-09-30T10:00"}})),
        "postback-richmenu": body(event("postback", 21, user(), postback={
            "data": "action=richmenu-changed-to-b",
            "params": {"newRichMenuAliasId": "richmenu-alias-b", "status": "SUCCESS"}})),
        "video-play-complete": body(event("videoPlayComplete", 22, user(),
                                          videoPlayComplete={"trackingId": "track-id"})),
        "beacon": body(event("beacon", 23, user(), beacon={
            "hwid": "d41d8cd98f", "type": "enter", "dm": "1234567890abcdef"})),
        "account-link": body(event("accountLink", 24, user(),
                                   link={"result": "ok", "nonce": "xxxxxxxxxxxxxxx"})),
        "account-link-failed": body(event("accountLink", 25, None, reply=False,
                                          link={"result": "failed", "nonce": "xxxxxxxxxxxxxxx"})),
        "membership": body(event("membership", 26, user(), membership={
            "type": "joined", "membershipId": 3189})),
        "module-activated": body(event("activated", 27, user(), reply=False,
                                       chatControl={"expireAt": T + 3600000})),
        "module-deactivated": body(event("deactivated", 28, user(), reply=False)),
        "bot-suspended": body(event("botSuspended", 29, None, reply=False)),
        "unknown-type": body(event("greatNewFeature", 30, user(), extra={"a": 1, "b": [True, None]})),
        "unknown-message-and-source": body(event("message", 31, {"type": "alien", "id": "x"},
                                                 message={"id": "9", "type": "hologram", "depth": 3})),
        "standby-redelivery": body({
            "type": "message", "timestamp": T + 32, "mode": "standby", "source": user(),
            "webhookEventId": "01JZ0000000000000000000032",
            "deliveryContext": {"isRedelivery": True},
            "message": {"id": "325712", "type": "text", "text": "again", "quoteToken": "q"}}),
        "batch-chats": body(
            event("message", 33, user(), message={"id": "1", "type": "text", "text": "hi"}),
            event("message", 34, group(USER2), message={"id": "2", "type": "text", "text": "yo"}),
            event("follow", 35, user(USER2)),
            event("unsend", 36, room(), reply=False, unsend={"messageId": "1"})),
        "batch-malformed-neighbours": {"destination": BOT, "events": [
            {"type": "follow", "webhookEventId": "01A", "timestamp": T},
            42, {"timestamp": 1}, "text", None, {"type": 7},
            {"type": "unfollow", "webhookEventId": "01B"}]},
    }
    for name, value in seeds.items():
        write("webhook_body", name + ".json", compact(value))
    # LINE's Verify: an empty batch (LINE's published signature example A1).
    write("webhook_body", "verify-empty.json",
          '{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}')
    # Escapes and spacing as LINE may send them: stored byte for byte.
    write("webhook_body", "escaped-pretty.json", json.dumps(
        body(event("message", 40, user(), message={
            "id": "325713", "type": "text", "text": "\U0001F604 \u8a02\u55ae\u9084\u6c92\u5230 \"q\" \\ /"})),
        ensure_ascii=True, indent=2))
    # An event object given as an array: the relay's table says it is stored as malformed.
    write("webhook_body", "event-as-array.json",
          '{"destination":"%s","events":[["follow",1],{"type":"join"}]}' % BOT)


# --- signature --------------------------------------------------------------------------------

def sign(secret, payload):
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


def signature_seeds():
    def seed(name, secret, sig, payload):
        write("signature", name + ".txt", secret.encode() + b"\n" + sig.encode() + b"\n" + payload)

    a1_secret = "8c570fa6dd201bb328f1c1eac23a96d8"
    a1_body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
    a1_sig = sign(a1_secret, a1_body)
    assert a1_sig == "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs=", "LINE's vector A1"
    seed("a1-verify", a1_secret, a1_sig, a1_body)

    secret = "5f2d6a1c9e8b7a6f5e4d3c2b1a0f9e8d"
    message = compact(body(event("message", 1, user(), message={
        "id": "1", "type": "text", "text": "こんにちは \U0001F604"})), ascii_only=False).encode()
    good = sign(secret, message)
    seed("message-valid", secret, good, message)
    seed("message-other-body", secret, sign(secret, message + b" "), message)
    seed("message-other-secret", secret, sign(secret[::-1], message), message)
    seed("header-whitespace", secret, " " + good + "\t", message)
    # The same 32 bytes spelled another way must not pass: nonzero trailing bits, no padding,
    # the URL-safe alphabet.
    last = good[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = alphabet[alphabet.index(last) ^ 1]
    seed("non-canonical-bits", secret, good[:-2] + other + "=", message)
    seed("no-padding", secret, good.rstrip("="), message)
    seed("url-safe-alphabet", secret, good.replace("+", "-").replace("/", "_"), message)
    seed("too-short", secret, "AAAA", message)
    seed("not-base64", secret, "not base64!", message)
    seed("empty-secret", "", sign("", message), message)
    seed("empty-all", "", "", b"")
    write("signature", "non-ascii-header.txt",
          secret.encode() + b"\n" + good.encode() + "\u3000".encode() + b"\xff\n" + message)


# --- frames -----------------------------------------------------------------------------------

def chat_hash(channel, chat):
    return hashlib.sha256(("%s/%s" % (channel, chat)).encode()).hexdigest()


def frame_event(kind, seq, ev, received=None):
    return compact({"type": kind, "data": {
        "seq": seq, "channel_id": CHANNEL, "webhook_event_id": ev.get("webhookEventId"),
        "received_at": received if received is not None else T + seq * 10, "event": ev}})


def snapshot(version, state, owner=None, offer=None, chat=USER):
    return {
        "id": "conv-01JZ00000000000000000000AA", "version": version, "channelId": CHANNEL,
        "chatId": chat, "state": state, "queueId": "general", "queueName": "General",
        "mode": "push", "owner": owner, "offer": offer, "firstText": "hi", "language": "ja",
        "openedAt": T, "lastCustomerAt": T + 1, "acceptedAt": None, "endedAt": None,
        "closedAt": None, "closeReason": None, "transferredFrom": None, "consultants": [],
        "survey": None, "contact": None, "flag": None, "consent": None,
    }


def frames_seeds():
    text = lambda n, chat, words: event("message", n, user(chat), message={
        "id": str(9000 + n), "type": "text", "quoteToken": "q%d" % n, "text": words})
    session = [
        compact({"type": "welcome", "data": {"version": 2, "user": "rita", "role": "rep",
                                             "resume_after": 0, "head": 9}}),
        compact({"type": "scope", "data": {"kind": "all"}}),
        frame_event("event", 1, text(1, USER, "hello, my order has not arrived")),
        frame_event("event", 2, event("message", 2, user(), message={
            "id": "9002", "type": "image", "contentProvider": {"type": "line"}})),
        frame_event("event", 3, event("follow", 3, user(USER2), follow={"isUnblocked": True})),
        frame_event("event", 4, {"type": "linedeskProfile", "timestamp": T + 4, "mode": "active",
                                 "source": user(), "webhookEventId": "profile:%s:abc" % USER,
                                 "profile": {"displayName": "Sally", "pictureUrl": "https://example.com/p.jpg",
                                             "language": "ja"}}),
        frame_event("event", 5, {"type": "linedeskConversation", "timestamp": T + 5, "mode": "active",
                                 "source": user(), "webhookEventId": "conv:1",
                                 "conversation": snapshot(1, "open", offer={
                                     "to": "rita", "offeredAt": T + 5, "expiresAt": T + 30005})}),
        frame_event("event", 6, {"type": "linedeskAgent", "timestamp": T + 6, "mode": "active",
                                 "webhookEventId": "agent:rita:1", "agent": {
                                     "user": "rita", "presence": "busy", "chosen": "available",
                                     "capacity": 3, "used": 1}}),
        frame_event("event", 7, {"type": "linedeskSent", "timestamp": T + 7, "mode": "active",
                                 "source": user(), "webhookEventId": "sent:123e4567-e89b-12d3-a456-426614174000",
                                 "outboxId": "123e4567-e89b-12d3-a456-426614174000", "sentBy": "rita",
                                 "via": "reply", "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA001",
                                 "messages": [{"type": "text", "text": "Sorry! Checking now."}],
                                 "sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}),
        frame_event("event", 8, {"type": "linedeskConversation", "timestamp": T + 8, "mode": "active",
                                 "source": user(), "webhookEventId": "conv:2",
                                 "conversation": snapshot(2, "active", owner="rita")}),
        frame_event("event", 9, event("unsend", 9, user(), reply=False, unsend={"messageId": "9001"})),
        compact({"type": "caught_up", "data": {"head": 9}}),
        compact({"type": "pong", "data": {"nonce": 7}}),
        frame_event("backfill", 0, text(0, USER, "an earlier message")),
        compact({"type": "forget", "data": {"channel_id": CHANNEL, "chat_hash": chat_hash(CHANNEL, USER2)}}),
        compact({"type": "scope", "data": {"kind": "chats", "chats": [[CHANNEL, chat_hash(CHANNEL, USER)]]}}),
        compact({"type": "error", "data": {"code": "unauthenticated", "message": "your session ended"}}),
    ]
    write("frames", "session.jsonl", "\n".join(session) + "\n")

    history = [
        frame_event("backfill", 3, text(3, USER, "first")),
        frame_event("backfill", 4, event("messageEdited", 4, user(), message={
            "id": "9003", "type": "text", "text": "first, edited"})),
        frame_event("backfill", 5, event("message", 5, user(), message={
            "id": "9005", "type": "file", "fileName": "invoice.pdf", "fileSize": 10})),
        frame_event("backfill", 6, {"type": "linedeskBlocked", "timestamp": T + 6, "mode": "active",
                                    "source": user(), "webhookEventId": "blocked:9005",
                                    "messageId": "9005", "reason": "workstream_forbids_customer_attachments"}),
        frame_event("backfill", 7, event("unfollow", 7, user(), reply=False)),
        frame_event("event", 20, text(20, USER, "now")),
    ]
    write("frames", "history.jsonl", "\n".join(history) + "\n")

    erase = [
        frame_event("event", 1, text(1, USER, "my phone is 090-0000-0000")),
        frame_event("event", 2, text(2, USER2, "someone else")),
        frame_event("event", 3, {"type": "linedeskErased", "timestamp": T + 3, "mode": "active",
                                 "chatHash": chat_hash(CHANNEL, USER)}),
        "090",
    ]
    write("frames", "erase.jsonl", "\n".join(erase) + "\n")

    search = [
        frame_event("event", 1, text(1, USER, "我的訂單還沒到")),
        frame_event("event", 2, text(2, USER, "สินค้ายังไม่มาถึง")),
        frame_event("event", 3, text(3, USER2, "Where is my package? It was delivered")),
        "訂單", "สินค้า", "deliv", 'my "package',
    ]
    write("frames", "search.jsonl", "\n".join(search) + "\n")

    client = [
        compact({"type": "hello", "version": 2, "token": "tok-123", "since": 7}),
        compact({"type": "hello", "version": 2, "token": "tok-123", "since": None}),
        compact({"type": "ack", "seq": 9}),
        compact({"type": "ping", "nonce": 0}),
    ]
    write("frames", "client.jsonl", "\n".join(client) + "\n")


# --- upload -----------------------------------------------------------------------------------

def png(width, height, color_type, bit_depth, rows, palette=None, extra=()):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    for kind, data in extra:
        out += chunk(kind, data)
    if palette:
        out += chunk(b"PLTE", palette)
    out += chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in rows)))
    return out + chunk(b"IEND", b"")


def seg(marker, payload):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def tiff_orientation(value):
    """A little-endian TIFF header with IFD0 holding only Orientation (tag 0x0112)."""
    return (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
            + struct.pack("<HHII", 0x0112, 3, 1, value) + struct.pack("<I", 0))


def jpeg_gray8(extra=b""):
    """An 8x8 mid-grey baseline JPEG: one block, DC difference 0, then end of block. `extra`
    segments go after APP0."""
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return (b"\xff\xd8"
            + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + extra
            + seg(0xDB, b"\x00" + b"\x01" * 64)
            + seg(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
            + seg(0xC4, b"\x00" + one_code)
            + seg(0xC4, b"\x10" + one_code)
            + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
            + b"\x3f"
            + b"\xff\xd9")


def upload_seeds():
    write("upload", "png-1x1-rgb.png", png(1, 1, 2, 8, [b"\xff\x00\x00"]))
    write("upload", "png-2x2-rgba.png", png(2, 2, 6, 8, [b"\x00\x00\x00\xff\xff\xff\xff\x80"] * 2))
    write("upload", "png-3x1-palette.png", png(3, 1, 3, 8, [b"\x00\x01\x02"],
                                               palette=b"\xff\x00\x00\x00\xff\x00\x00\x00\xff"))
    write("upload", "png-2x1-gray16.png", png(2, 1, 0, 16, [b"\x00\x00\xff\xff"]))
    write("upload", "jpeg-8x8-gray.jpg", jpeg_gray8())
    # Metadata the relay strips: EXIF (upright, and turned, which is re-encoded), XMP, IPTC.
    exif = lambda o: seg(0xE1, b"Exif\x00\x00" + tiff_orientation(o))
    xmp = seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    iptc = seg(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00")
    write("upload", "jpeg-exif-upright.jpg", jpeg_gray8(exif(1) + xmp + iptc))
    write("upload", "jpeg-exif-turned.jpg", jpeg_gray8(exif(6)))
    write("upload", "jpeg-comment-icc.jpg", jpeg_gray8(
        seg(0xFE, b"a comment") + seg(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 16)))
    # A second image appended after the first, with its own EXIF (as MPF files carry).
    write("upload", "jpeg-appended-exif.jpg", jpeg_gray8() + jpeg_gray8(exif(1)))
    red = [b"\xff\x00\x00"]
    write("upload", "png-text-chunks.png", png(1, 1, 2, 8, red, extra=[
        (b"tEXt", b"Comment\x00hello"),
        (b"zTXt", b"Raw profile type exif\x00\x00"
         + zlib.compress(b"\nexif\n       6\n457869660000\n")),
        (b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>")]))
    write("upload", "png-exif-upright.png", png(1, 1, 2, 8, red, extra=[(b"eXIf", tiff_orientation(1))]))
    write("upload", "png-exif-turned.png", png(2, 1, 2, 8, [b"\xff\x00\x00\x00\x00\xff"],
                                               extra=[(b"eXIf", tiff_orientation(6))]))
    gif = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
           b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    write("upload", "gif-1x1.gif", gif)
    # Lossless 1x1 WebP (VP8L).
    write("upload", "webp-1x1.webp",
          b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
    write("upload", "mp4-ftyp.mp4",
          b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" + b"\x00\x00\x00\x10mdat" + b"\x00" * 8)
    write("upload", "m4a-ftyp.m4a", b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00")
    write("upload", "mp3-id3.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 16)
    write("upload", "mp3-frame.mp3", b"\xff\xfb\x90\x64" + b"\x00" * 28)
    write("upload", "doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    write("upload", "page.html", b"<html><script>alert(1)</script></html>")
    write("upload", "truncated-png.png", png(1, 1, 2, 8, [b"\xff\x00\x00"])[:40])
    write("upload", "one-byte.bin", b"\xff")


# --- path_params ------------------------------------------------------------------------------

def path_seeds():
    token = base64.urlsafe_b64encode(hashlib.sha256(b"token").digest()).rstrip(b"=").decode()
    seeds = {
        "channel-id": CHANNEL,
        "line-user-id": USER,
        "channel-and-user": "%s/%s" % (CHANNEL, USER),
        "group-id": GROUP,
        "queue-id": "general",
        "queue-id-long": "q" * 64,
        "queue-id-too-long": "q" * 65,
        "upload-token": token,
        "upload-preview": token + "/preview",
        "upload-preview-twice": token + "/preview/preview",
        "dot-dot": "../../relay.db",
        "slash": "a/b/c",
        "empty": "",
        "space": "16500 00000",
        "percent": "%2F%2e%2e",
        "role-rep": "rep",
        "role-representative": "representative",
        "role-admin": "admin",
        "state-wrap-up": "wrap_up",
        "presence-dnd": "do_not_disturb",
        "unicode": "チャンネル🙂",
        "contact-id": "-9223372036854775808",
        "message-id": "468789577898262530",
    }
    for name, value in seeds.items():
        write("path_params", name + ".txt", value)


if __name__ == "__main__":
    webhook_seeds()
    signature_seeds()
    frames_seeds()
    upload_seeds()
    path_seeds()
