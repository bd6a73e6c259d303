//! Live updates: a real WebSocket client subscribes over graphql-ws and is
//! told of the writes that commit.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
use vigie::server::{self, AppState, HttpSettings};

use crate::{
    fixtures::seed_everything,
    helpers::{Backend, TestApp, TestDb, gid, post_graphql, wait_until_listening},
};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn next_json(socket: &mut Socket) -> Json {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("no message within 10 s")
            .expect("the socket closed")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Opens a graphql-ws connection to the hub at `base` (`http://…`), once
/// acknowledged; `Err(status)` when the upgrade is refused.
pub(crate) async fn connect(base: &str) -> Result<Socket, u16> {
    let mut request = format!("{}/graphql/ws", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return Err(response.status().as_u16());
        }
        Err(err) => panic!("cannot connect: {err}"),
    };
    socket
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    Ok(socket)
}

/// Opens a graphql-ws connection to the hub at `addr` and subscribes (as
/// operation "1") with `query` and `variables`.
async fn subscribe(addr: std::net::SocketAddr, query: &str, variables: Json) -> Socket {
    let mut socket = connect(&format!("http://{addr}")).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": query, "variables": variables } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    // Let the subscription start before anything is written.
    tokio::time::sleep(Duration::from_millis(300)).await;
    socket
}

/// Sends an operation over an open connection as `id`, and returns the
/// first message about it (messages ending earlier operations are skipped).
pub(crate) async fn operation(socket: &mut Socket, id: &str, payload: Json) -> Json {
    let subscribe = json!({ "id": id, "type": "subscribe", "payload": payload });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    loop {
        let message = next_json(socket).await;
        if message["id"] == id {
            return message;
        }
    }
}

/// The errors of a message: an `error` message's payload, or a `next`
/// message's `errors`.
pub(crate) fn errors(message: &Json) -> &Json {
    if message["type"] == "error" {
        &message["payload"]
    } else {
        &message["payload"]["errors"]
    }
}

/// A mutation with an API key, over HTTP, that must succeed.
async fn write(addr: std::net::SocketAddr, key: &str, query: &str, variables: Json) {
    let answer = post_graphql(&format!("http://{addr}"), Some(key), query, variables).await;
    assert!(answer.get("errors").is_none(), "{answer}");
}

on_both_backends! {
    async fn record_changed_fires_after_a_write_commits(backend: Backend) {
        let app = TestApp::new(backend).await;
        let f = seed_everything(&app.db).await;
        let (key, _) = vigie::auth::create_key(&app.db.conn, entity::enums::KeyRole::Admin, &[], "admin")
            .await
            .unwrap();
        let hub = server::app(AppState::new(app.api.clone(), HttpSettings::default()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(server::serve_on(hub, listener));

        // Deployments of the commune only.
        let mut socket = subscribe(
            addr,
            "subscription($t: ID) { recordChanged(types: [\"Deployment\"], territory: $t) {
                recordType recordId action version territoryId } }",
            json!({ "t": gid("Territory", f.commune) }),
        )
        .await;
        // A write elsewhere (another type, another territory) is not sent…
        write(
            addr,
            &key,
            "mutation($id: ID!) { archiveEvent(id: $id, expectedVersion: 1) { id } }",
            json!({ "id": gid("Event", f.event) }),
        )
        .await;
        // …this one is.
        write(
            addr,
            &key,
            "mutation($id: ID!) { updateDeployment(input: { id: $id, expectedVersion: 1, summary: \"Revu\" }) { id } }",
            json!({ "id": gid("Deployment", f.deployment) }),
        )
        .await;
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], "1");
        let change = &message["payload"]["data"]["recordChanged"];
        assert_eq!(change["recordType"], "Deployment");
        assert_eq!(change["recordId"], gid("Deployment", f.deployment));
        assert_eq!(change["action"], "UPDATE");
        assert_eq!(change["version"], 2);
        assert_eq!(change["territoryId"], gid("Territory", f.commune));

        // An unknown type is refused with a code.
        let message = operation(&mut socket, "2", json!({
            "query": "subscription { recordChanged(types: [\"Nope\"]) { recordId } }" })).await;
        assert_eq!(errors(&message)[0]["extensions"]["code"], "BAD_USER_INPUT", "{message}");

        // A query sent over the socket is answered once, nested lists
        // included (they are read through the request's loader).
        let message = operation(&mut socket, "3", json!({
            "query": "query($id: ID!) { node(id: $id) { ... on Territory { deployments { totalCount nodes { id } } } } }",
            "variables": { "id": gid("Territory", f.commune) } })).await;
        assert_eq!(message["type"], "next", "{message}");
        let deployments = &message["payload"]["data"]["node"]["deployments"];
        assert_eq!(deployments["nodes"][0]["id"], gid("Deployment", f.deployment), "{message}");
        assert_eq!(deployments["totalCount"], deployments["nodes"].as_array().unwrap().len());
        let message = next_json(&mut socket).await;
        assert_eq!((&message["id"], &message["type"]), (&json!("3"), &json!("complete")), "{message}");

        // A document that does not parse gets its code too.
        let message = operation(&mut socket, "4", json!({ "query": "subscription {" })).await;
        assert_eq!(errors(&message)[0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED", "{message}");

        // The socket carries no API key: a mutation over it is refused.
        let message = operation(&mut socket, "5", json!({
            "query": "mutation($id: ID!) { restoreEvent(id: $id, expectedVersion: 2) { id } }",
            "variables": { "id": gid("Event", f.event) } })).await;
        assert_eq!(errors(&message)[0]["extensions"]["code"], "UNAUTHENTICATED", "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_subscribers_hear_of_the_writes_of_every_replica() {
    let test_db = TestDb::new(Backend::Postgres).await;
    let f = seed_everything(&test_db.db).await;
    let (key, _) = vigie::auth::create_key(
        &test_db.db.conn,
        entity::enums::KeyRole::Admin,
        &[],
        "admin",
    )
    .await
    .unwrap();
    // Two replicas, each with its own pool, on one database.
    let replica = |conn: sea_orm::DatabaseConnection| {
        server::app(AppState::new(
            vigie::graphql::Api::new(conn, vigie::graphql::Limits::default()),
            HttpSettings::default(),
        ))
    };
    let other = vigie::db::connect(&test_db.url, 4).await.unwrap();
    let mut addrs = Vec::new();
    for conn in [test_db.db.conn.clone(), other.conn.clone()] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        tokio::spawn(server::serve_on(replica(conn), listener));
    }
    let mut socket = subscribe(
        addrs[0],
        "subscription { recordChanged { recordType recordId action version } }",
        json!({}),
    )
    .await;

    // A write on the second replica reaches the first one's subscriber.
    write(
        addrs[1],
        &key,
        "mutation($id: ID!) { archiveEvent(id: $id, expectedVersion: 1) { id } }",
        json!({ "id": gid("Event", f.event) }),
    )
    .await;
    let message = next_json(&mut socket).await;
    let change = &message["payload"]["data"]["recordChanged"];
    assert_eq!(change["recordType"], "Event", "{message}");
    assert_eq!(change["recordId"], gid("Event", f.event));
    assert_eq!(change["action"], "ARCHIVE");
    assert_eq!(change["version"], 2);
}

/// The hub listens for other replicas' writes on a connection of its own:
/// a pool of a single connection still serves requests while it listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_listening_leaves_the_pool_to_requests() {
    let test_db = TestDb::new(Backend::Postgres).await;
    let db = vigie::db::connect_with_timeout(&test_db.url, 1, Duration::from_secs(1))
        .await
        .unwrap();
    let api = vigie::graphql::Api::new(db.conn.clone(), vigie::graphql::Limits::default());
    wait_until_listening(&test_db.db.conn).await;
    let response = api.execute("{ territories { totalCount } }").await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        response.data.into_json().unwrap()["territories"]["totalCount"],
        0
    );
}
