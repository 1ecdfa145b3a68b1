use super::*;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(s).expect("valid")
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn tokens_round_trip_expire_and_need_the_same_key() {
    let ring = KeyRing::generate();
    let (token, expires) = ring
        .issue("alice", "uid-a", 3, at(1_000_000), Duration::from_secs(600))
        .expect("issue");
    assert_eq!(expires, at(1_000_600));
    assert_eq!(token.kid().as_deref(), Some(ring.active_kid()));
    let claims = ring.verify(&token, at(1_000_599)).expect("valid");
    assert_eq!(
        (claims.sub.as_str(), claims.uid.as_str(), claims.generation),
        ("alice", "uid-a", 3)
    );
    let expired = ring.verify(&token, at(1_000_600)).expect_err("expired");
    assert_eq!(expired.code(), "InvalidToken");
    assert_eq!(expired.to_string(), "invalid token: expired");
    // Another ring whose active key has the same id: the signature decides.
    let other = KeyRing::new(ring.active_kid(), TokenKey::generate()).expect("ring");
    let forged = other.verify(&token, at(1_000_001)).expect_err("other key");
    assert_eq!(forged.to_string(), "invalid token: bad signature");
    assert!(!forged.to_string().contains(token.expose()));
    let garbage = ring
        .verify(&Token::new("a.b.c"), at(1))
        .expect_err("garbage");
    assert_eq!(garbage.code(), "InvalidToken");
    assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    assert_eq!(format!("{:?}", ring.active_key()), "TokenKey(<redacted>)");
}

#[test]
fn a_copy_of_the_ring_verifies_as_any_replica_would() {
    let ring = KeyRing::generate();
    let key = TokenKey::from_bytes(ring.active_key().as_bytes()).expect("same bytes");
    let replica = KeyRing::new(ring.active_kid(), key).expect("ring");
    let (token, _) = ring
        .issue("bob", "uid-b", 0, at(10), Duration::from_secs(60))
        .expect("issue");
    assert_eq!(replica.verify(&token, at(11)).expect("valid").sub, "bob");
    assert!(TokenKey::from_bytes(&[0; 16]).is_err());
}

#[test]
fn a_retired_key_verifies_during_its_grace_only_and_unknown_ids_never() {
    let first = KeyRing::generate();
    let (old, _) = first
        .issue("alice", "uid-a", 0, at(1_000), 2 * HOUR)
        .expect("issue");
    let second = first.rotated(at(2_000), HOUR);
    assert_ne!(second.active_kid(), first.active_kid());
    assert_eq!(second.retired().len(), 1);
    let retired = &second.retired()[0];
    assert_eq!(retired.kid, first.active_kid());
    assert_eq!(
        (retired.retired_at, retired.accepted_until),
        (at(2_000), at(5_600))
    );
    // New tokens are signed with the new key; old ones verify until the grace ends.
    let (new, _) = second
        .issue("alice", "uid-a", 0, at(2_001), HOUR)
        .expect("issue");
    assert_eq!(new.kid().as_deref(), Some(second.active_kid()));
    second.verify(&new, at(2_002)).expect("new token");
    second.verify(&old, at(5_599)).expect("within grace");
    assert_eq!(
        second
            .verify(&old, at(5_600))
            .expect_err("after")
            .to_string(),
        "invalid token: signed with a retired key"
    );
    // The first ring does not know the new key.
    assert_eq!(
        first
            .verify(&new, at(2_002))
            .expect_err("unknown")
            .to_string(),
        "invalid token: unknown key id"
    );
    // Rotating again after the grace drops the expired key.
    let third = second.rotated(at(6_000), HOUR);
    let kids: Vec<&str> = third.retired().iter().map(|r| r.kid.as_str()).collect();
    assert_eq!(kids, [second.active_kid()]);
    assert!(!third.knows(first.active_kid()));
    assert_eq!(
        third
            .verify(&old, at(6_001))
            .expect_err("dropped")
            .to_string(),
        "invalid token: unknown key id"
    );
    // A retired key still inside its grace is kept by a rotation.
    let fourth = third.rotated(at(6_100), HOUR);
    assert_eq!(fourth.retired().len(), 2);
}

#[test]
fn a_token_without_a_key_id_or_a_uid_is_refused() {
    let ring = KeyRing::generate();
    #[derive(Serialize)]
    struct Old<'a> {
        sub: &'a str,
        generation: i64,
        iat: i64,
        exp: i64,
        iss: &'a str,
    }
    let key = EncodingKey::from_secret(ring.active_key().as_bytes()).expect("key");
    let old = Old {
        sub: "alice",
        generation: 0,
        iat: 10,
        exp: 10_000,
        iss: ISSUER,
    };
    let no_kid = Token::new(
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &key).expect("encode"),
    );
    assert_eq!(
        ring.verify(&no_kid, at(11))
            .expect_err("no kid")
            .to_string(),
        "invalid token: no key id"
    );
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(ring.active_kid().to_owned());
    let no_uid = Token::new(jsonwebtoken::encode(&header, &old, &key).expect("encode"));
    assert_eq!(
        ring.verify(&no_uid, at(11))
            .expect_err("no uid")
            .to_string(),
        "invalid token: malformed token"
    );
}

#[test]
fn debug_shows_key_ids_and_times_never_keys() {
    let ring = KeyRing::generate().rotated(at(100), HOUR);
    let shown = format!("{ring:?}");
    assert!(shown.contains(ring.active_kid()), "{shown}");
    assert!(shown.contains(&ring.retired()[0].kid), "{shown}");
    for bytes in [
        ring.active_key().as_bytes(),
        ring.retired()[0].key().as_bytes(),
    ] {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let list = format!("{bytes:?}");
        assert!(!shown.contains(&hex) && !shown.contains(&list), "{shown}");
    }
    assert!(validate_kid(LEGACY_KID).is_ok());
    for bad in ["", "A", "a/b", "a.b", &"x".repeat(MAX_KID_LENGTH + 1)] {
        assert!(validate_kid(bad).is_err(), "{bad:?}");
    }
}
