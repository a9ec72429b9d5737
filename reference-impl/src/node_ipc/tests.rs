//! Channel tests against a hand-driven peer (the "child" end of a socketpair).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::sys::{recv_with_fds, send_with_fd, set_nonblocking, socketpair};
use super::{Incoming, LineDecoder, open};

/// Reads from the raw child end until `want` messages arrived or the deadline passed.
async fn read_child(child: &OwnedFd, want: usize) -> (Vec<Value>, Vec<OwnedFd>) {
    read_child_for(child, want, Duration::from_secs(5)).await
}

async fn read_child_for(
    child: &OwnedFd,
    want: usize,
    wait: Duration,
) -> (Vec<Value>, Vec<OwnedFd>) {
    let mut dec = LineDecoder::new();
    let mut out = Vec::new();
    let mut fds = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < want && tokio::time::Instant::now() < deadline {
        match recv_with_fds(child.as_raw_fd(), &mut buf, &mut fds) {
            Ok((0, _)) => break,
            Ok((n, _)) => {
                dec.feed(&buf[..n]);
                while let Some(m) = dec.next_message() {
                    out.push(m.unwrap());
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    (out, fds)
}

fn write_child(child: &OwnedFd, data: &[u8], fd: Option<&OwnedFd>) {
    let n = send_with_fd(child.as_raw_fd(), data, fd.map(|f| f.as_raw_fd())).unwrap();
    assert_eq!(n, data.len());
}

#[tokio::test]
async fn one_handle_in_flight_until_ack_and_resend_on_nack() {
    let (parent, child) = socketpair().unwrap();
    set_nonblocking(&child, true).unwrap();
    let (tx, mut rx) = open(parent).unwrap();
    let (a, _a2) = socketpair().unwrap();
    let (b, _b2) = socketpair().unwrap();
    tx.send_handle("net.Native", &json!({"n": 1}), Arc::new(a))
        .unwrap();
    tx.send_handle("net.Native", &json!({"n": 2}), Arc::new(b))
        .unwrap();
    tx.send(&json!("after")).unwrap();

    let (msgs, fds) = read_child(&child, 1).await;
    assert_eq!(
        msgs,
        vec![json!({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"n":1}})]
    );
    assert_eq!(fds.len(), 1);
    // Nothing else is sent while the first handle waits for its ACK.
    let (more, _) = read_child_for(&child, 1, Duration::from_millis(300)).await;
    assert!(more.is_empty(), "{more:?}");

    // The reader task drives ACK/NACK: run it in the background.
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(m) = rx.next().await {
            got.push(m);
        }
        got
    });
    write_child(&child, b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n", None);
    let (msgs, fds) = read_child(&child, 1).await;
    assert_eq!(msgs[0]["msg"], json!({"n": 2}));
    assert_eq!(fds.len(), 1);
    // NACK: the same handle comes again with a fresh fd.
    write_child(&child, b"{\"cmd\":\"NODE_HANDLE_NACK\"}\n", None);
    let (msgs, fds) = read_child(&child, 1).await;
    assert_eq!(msgs[0]["msg"], json!({"n": 2}));
    assert_eq!(fds.len(), 1);
    write_child(&child, b"{\"cmd\":\"NODE_HANDLE_ACK\"}\n", None);
    let (msgs, _) = read_child(&child, 1).await;
    assert_eq!(msgs, vec![json!("after")]);
    drop(child);
    let got = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(got.is_empty(), "acks are not delivered as messages");
}

async fn next(rx: &mut super::Reader) -> Incoming {
    tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn handles_from_the_child_are_always_acked() {
    let (parent, child) = socketpair().unwrap();
    set_nonblocking(&child, true).unwrap();
    let (_tx, mut rx) = open(parent).unwrap();
    let (s, _s2) = socketpair().unwrap();
    // A plain message, an invalid line, and a NODE_HANDLE with an fd, split in two writes.
    write_child(&child, b"\"ready\"\n{oops\n", None);
    let line = b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"k\":1}}\n";
    write_child(&child, &line[..10], Some(&s));
    write_child(&child, &line[10..], None);

    match next(&mut rx).await {
        Incoming::Message { value, handle } => {
            assert_eq!(value, json!("ready"));
            assert!(handle.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(next(&mut rx).await, Incoming::Invalid(_)));
    match next(&mut rx).await {
        Incoming::Message { value, handle } => {
            assert_eq!(value, json!({"k": 1}));
            assert!(handle.is_some());
        }
        other => panic!("{other:?}"),
    }
    // A NODE_HANDLE whose fd never came (lost): NACK, and nothing delivered for it.
    write_child(
        &child,
        b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"k\":0}}\n\"x\"\n",
        None,
    );
    match next(&mut rx).await {
        Incoming::Message { value, .. } => assert_eq!(value, json!("x")),
        other => panic!("{other:?}"),
    }
    let (msgs, _) = read_child(&child, 2).await;
    assert_eq!(
        msgs,
        vec![
            json!({"cmd":"NODE_HANDLE_ACK"}),
            json!({"cmd":"NODE_HANDLE_NACK"})
        ]
    );
    drop(child);
    assert!(rx.next().await.is_none());
}

#[tokio::test]
async fn large_messages_survive_partial_writes() {
    let (parent, child) = socketpair().unwrap();
    set_nonblocking(&child, true).unwrap();
    let (tx, _rx) = open(parent).unwrap();
    let big = "x".repeat(1 << 20);
    for i in 0..4 {
        tx.send(&json!({"i": i, "big": big})).unwrap();
    }
    let (msgs, _) = read_child(&child, 4).await;
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[3]["i"], 3);
    assert_eq!(msgs[3]["big"].as_str().unwrap().len(), 1 << 20);
}
