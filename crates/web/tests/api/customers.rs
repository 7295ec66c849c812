//! Diner login by SMS code and by WeChat: codes are throttled, expire, lock after five wrong
//! tries and work once; the phone is stored sealed and never shows in full in logs or answers.

use crate::app::{ClockHand, LogLines, TestApp, code, from_peer, movable_clock};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use diancan_domain::customer::{OtpCode, Phone};
use diancan_integrations::sms::{BoxFuture, SmsError, SmsSender};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const PHONE: &str = "13812345678";
const MASKED: &str = "138****5678";

/// Keeps every code "sent", so a test can read it like the diner would.
#[derive(Default)]
struct CapturedSms(Mutex<Vec<(String, String)>>);

impl CapturedSms {
    fn last_code_for(&self, phone: &str) -> String {
        let sent = self.0.lock().unwrap();
        let (_, code) = sent
            .iter()
            .rev()
            .find(|(to, _)| to == phone)
            .expect("a code was sent");
        code.clone()
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl SmsSender for CapturedSms {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        self.0
            .lock()
            .unwrap()
            .push((phone.expose().to_owned(), code.expose().to_owned()));
        Box::pin(async { Ok(()) })
    }
}

/// The test app with a clock the test moves forward and the capturing SMS provider.
struct Diners {
    app: TestApp,
    sms: Arc<CapturedSms>,
    hand: ClockHand,
}

impl Diners {
    async fn new() -> Diners {
        let (clock, hand) = movable_clock();
        let mut app = TestApp::with_clock(clock).await;
        let sms = Arc::new(CapturedSms::default());
        app.state = app.state.clone().with_sms(sms.clone());
        app.router = diancan_web::router(app.state.clone());
        Diners { app, sms, hand }
    }

    fn advance_secs(&self, secs: i64) {
        self.hand.advance_ms(secs * 1000);
    }

    fn path(&self, tail: &str) -> String {
        format!("/api/v1/stores/{}/customer/{tail}", self.app.a.store)
    }

    async fn request_code(&self, phone: &str) -> (StatusCode, HeaderMap, Value) {
        self.app
            .send(
                Method::POST,
                &self.path("otp"),
                None,
                Some(json!({"phone": phone})),
            )
            .await
    }

    /// Asks for a code as `client` does through the proxy at `proxy`.
    async fn request_code_via(&self, proxy: &str, client: &str, phone: &str) -> StatusCode {
        let request = Request::post(self.path("otp"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", client)
            .body(Body::from(json!({"phone": phone}).to_string()))
            .unwrap();
        self.app.send_request(from_peer(request, proxy)).await.0
    }

    async fn login(&self, phone: &str, code: &str) -> (StatusCode, HeaderMap, Value) {
        self.app
            .send(
                Method::POST,
                &self.path("login"),
                None,
                Some(json!({"phone": phone, "code": code})),
            )
            .await
    }

    /// Requests a code and logs in with it; returns the login answer.
    async fn log_in(&self, phone: &str) -> Value {
        let (status, _, body) = self.request_code(phone).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let digits = Phone::parse(phone).unwrap().expose().to_owned();
        let (status, _, body) = self.login(phone, &self.sms.last_code_for(&digits)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn me(&self, authorization: Option<&str>, cookie: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/api/v1/customer/me");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        if let Some(value) = cookie {
            request = request.header(header::COOKIE, value);
        }
        let (status, _, body) = self
            .app
            .send_request(request.body(Body::empty()).unwrap())
            .await;
        (status, body)
    }
}

/// A different wrong code than the real one.
fn wrong(code: &str) -> String {
    let first = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn a_diner_logs_in_with_the_code_from_the_sms_and_out_again() {
    let d = Diners::new().await;
    let (status, _, body) = d.request_code("+86 138-1234-5678").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["phone_masked"], MASKED);
    assert_eq!(body["expires_in_secs"], 300);
    assert_eq!(body["resend_after_secs"], 60);

    let sms_code = d.sms.last_code_for(PHONE);
    let (status, headers, body) = d.login("138 1234 5678", &sms_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["customer"]["phone_masked"], MASKED);
    assert_eq!(body["customer"]["display_name"], "顾客");
    let token = body["token"].as_str().unwrap().to_owned();
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("diancan_customer={token};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    let (status, me) = d.me(Some(&format!("Customer {token}")), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], body["customer"]["id"]);
    let (status, _) = d
        .me(None, Some(&format!("other=1; diancan_customer={token}")))
        .await;
    assert_eq!(status, StatusCode::OK, "the cookie works too");
    let (status, _) = d.me(Some(&format!("Bearer {token}")), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not a staff token");
    let staff_token = d.app.login(&d.app.a.owner_login).await;
    let (status, _) = d.me(Some(&format!("Customer {staff_token}")), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a staff session is no diner"
    );

    let logout = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/customer/logout")
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = d.app.send_request(logout).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, body) = d.me(Some(&format!("Customer {token}")), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "UNAUTHENTICATED");

    // The same phone logs in as the same customer next time.
    d.advance_secs(61);
    let again = d.log_in(PHONE).await;
    assert_eq!(again["customer"]["id"], me["id"]);
    d.app.cleanup().await;
}

#[tokio::test]
async fn a_code_works_once() {
    let d = Diners::new().await;
    d.log_in(PHONE).await;
    let used = d.sms.last_code_for(PHONE);
    let (status, _, body) = d.login(PHONE, &used).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "OTP_EXPIRED");
    d.app.cleanup().await;
}

#[tokio::test]
async fn five_wrong_codes_lock_the_code_and_a_new_one_works() {
    let d = Diners::new().await;
    d.request_code(PHONE).await;
    let right = d.sms.last_code_for(PHONE);
    for left in (0..5).rev() {
        let (status, _, body) = d.login(PHONE, &wrong(&right)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&body), "OTP_WRONG");
        assert!(
            body["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempts left")),
            "{body}"
        );
    }
    let (status, _, body) = d.login(PHONE, &right).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        code(&body),
        "OTP_LOCKED",
        "even the right code is refused now"
    );

    let (status, _, body) = d.login(PHONE, "12345").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "INVALID_OTP");

    d.advance_secs(60);
    d.log_in(PHONE).await;
    d.app.cleanup().await;
}

#[tokio::test]
async fn codes_expire_after_five_minutes_and_a_newer_code_replaces_an_older_one() {
    let d = Diners::new().await;
    d.request_code(PHONE).await;
    let first = d.sms.last_code_for(PHONE);
    d.advance_secs(300);
    let (status, _, body) = d.login(PHONE, &first).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "OTP_EXPIRED");

    d.request_code(PHONE).await;
    let older = d.sms.last_code_for(PHONE);
    d.advance_secs(60);
    d.request_code(PHONE).await;
    let newer = d.sms.last_code_for(PHONE);
    if older != newer {
        let (status, _, body) = d.login(PHONE, &older).await;
        assert_eq!(code(&body), "OTP_WRONG", "{status}");
    }
    let (status, _, body) = d.login(PHONE, &newer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    d.app.cleanup().await;
}

#[tokio::test]
async fn sending_codes_is_throttled_per_phone() {
    let d = Diners::new().await;
    let (status, _, _) = d.request_code(PHONE).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The same phone written differently is the same phone.
    let (status, headers, body) = d.request_code("+86 138 1234 5678").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "OTP_THROTTLED");
    assert_eq!(headers[header::RETRY_AFTER], "60");
    assert!(body["error"]["message"].as_str().unwrap().contains("60 秒"));
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("60 seconds")
    );
    assert_eq!(d.sms.count(), 1, "nothing sent while throttled");

    // Another phone is not held up.
    let (status, _, _) = d.request_code("13987654321").await;
    assert_eq!(status, StatusCode::ACCEPTED);

    d.advance_secs(20);
    let (_, headers, _) = d.request_code(PHONE).await;
    assert_eq!(headers[header::RETRY_AFTER], "40");

    // Five an hour: sends at 0, 1, 2, 3 and 4 minutes (plus change), then refused until the hour is up.
    for _ in 0..4 {
        d.advance_secs(60);
        let (status, _, body) = d.request_code(PHONE).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    d.advance_secs(60);
    let (status, headers, body) = d.request_code(PHONE).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "OTP_THROTTLED");
    let retry: i64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry, 3600 - (20 + 5 * 60));
    d.advance_secs(retry);
    let (status, _, _) = d.request_code(PHONE).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    d.app.cleanup().await;
}

#[tokio::test]
async fn bad_phones_and_unknown_stores_are_refused() {
    let d = Diners::new().await;
    for phone in ["12345", "+1 415 555 0100", "23812345678", ""] {
        let (status, _, body) = d.request_code(phone).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{phone}");
        assert_eq!(code(&body), "INVALID_PHONE");
    }
    let (status, _) = d
        .app
        .post(
            &format!("/api/v1/stores/{}/customer/otp", uuid::Uuid::now_v7()),
            None,
            json!({"phone": PHONE}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(d.sms.count(), 0);
    d.app.cleanup().await;
}

#[tokio::test]
async fn the_phone_is_stored_sealed_and_found_again_by_its_blind_index() {
    let d = Diners::new().await;
    let body = d.log_in(PHONE).await;
    let phone = Phone::parse(PHONE).unwrap();
    let index = d.app.state.pii.phone_index(&phone);
    let record = d
        .app
        .db()
        .customer_by_phone_index(d.app.a.brand, &index)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(record.id).unwrap(),
        body["customer"]["id"]
    );

    // The raw column: AES-GCM bytes, not the digits in any form.
    let sealed = record.phone.clone().expect("a phone customer");
    let raw = sealed.as_bytes();
    for needle in [PHONE, "12345678", "5678"].map(str::as_bytes) {
        assert!(!raw.windows(needle.len()).any(|w| w == needle));
    }
    assert_eq!(d.app.state.pii.open_phone(&sealed).unwrap(), phone);

    // Customers belong to a brand: the same phone at brand B's store is someone else there.
    let b_store = d.app.b.store;
    d.advance_secs(61);
    let (status, _, _) = d
        .app
        .send(
            Method::POST,
            &format!("/api/v1/stores/{b_store}/customer/otp"),
            None,
            Some(json!({"phone": PHONE})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _, at_b) = d
        .app
        .send(
            Method::POST,
            &format!("/api/v1/stores/{b_store}/customer/login"),
            None,
            Some(json!({"phone": PHONE, "code": d.sms.last_code_for(PHONE)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{at_b}");
    assert_ne!(at_b["customer"]["id"], body["customer"]["id"]);
    let b_record = d
        .app
        .db()
        .customer_by_phone_index(d.app.b.brand, &index)
        .await
        .unwrap();
    assert_eq!(b_record.brand_id, d.app.b.brand);
    d.app.cleanup().await;
}

#[tokio::test]
async fn logs_answers_and_debug_output_never_show_the_full_number() {
    let lines = LogLines::default();
    let _guard = lines.capture();

    // The default development provider logs the code, with the phone masked.
    let mut d = Diners::new().await;
    d.app.state = d
        .app
        .state
        .clone()
        .with_sms(Arc::new(diancan_integrations::sms::LogSms));
    d.app.router = diancan_web::router(d.app.state.clone());
    let (status, _, sent) = d.request_code(PHONE).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, _, wrong_answer) = d.login(PHONE, "000000").await;
    let (_, _, throttled) = d.request_code(PHONE).await;

    let logged = lines.text();
    assert!(
        logged.contains(MASKED),
        "the SMS log names the masked phone: {logged}"
    );
    assert!(!logged.contains(PHONE), "{logged}");
    for answer in [&sent, &wrong_answer, &throttled] {
        assert!(!answer.to_string().contains(PHONE), "{answer}");
    }

    // Debug output of everything that holds the phone.
    let phone = Phone::parse(PHONE).unwrap();
    let sealed = d.app.state.pii.seal_phone(&phone);
    let record = d
        .app
        .db()
        .customer_by_phone_or_create(
            d.app.a.brand,
            &d.app.state.pii.phone_index(&phone),
            &sealed,
            "顾客",
            0,
        )
        .await
        .unwrap();
    let customer =
        diancan_web::customer_session::Customer::from_record(&d.app.state, record.clone()).unwrap();
    for debug in [
        format!("{phone:?} {phone}"),
        format!("{record:?}"),
        format!("{customer:?}"),
        format!("{:?}", d.app.state.pii),
    ] {
        assert!(!debug.contains(PHONE), "{debug}");
    }
    assert!(format!("{customer:?}").contains(MASKED));
    d.app.cleanup().await;
}

#[tokio::test]
async fn wechat_login_uses_the_simulator_and_rejects_bad_codes() {
    let d = Diners::new().await;
    let path = d.path("wechat-login");
    let (status, headers, first) = d
        .app
        .send(
            Method::POST,
            &path,
            None,
            Some(json!({"code": "sim-alice"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("diancan_customer=")
    );
    assert_eq!(first["customer"]["phone_masked"], Value::Null);
    let token = first["token"].as_str().unwrap();
    let (status, me) = d.me(Some(&format!("Customer {token}")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], first["customer"]["id"]);

    let (_, _, again) = d
        .app
        .send(
            Method::POST,
            &path,
            None,
            Some(json!({"code": "sim-alice"})),
        )
        .await;
    assert_eq!(
        again["customer"]["id"], first["customer"]["id"],
        "same WeChat user"
    );
    let (_, _, bob) = d
        .app
        .send(Method::POST, &path, None, Some(json!({"code": "sim-bob"})))
        .await;
    assert_ne!(bob["customer"]["id"], first["customer"]["id"]);

    for bad in ["071abcDEF", "", "sim-"] {
        let (status, _, body) = d
            .app
            .send(Method::POST, &path, None, Some(json!({"code": bad})))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(code(&body), "WECHAT_CODE_INVALID");
    }
    d.app.cleanup().await;
}

impl Diners {
    /// A request as the signed-in diner with `token`.
    async fn as_diner(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Customer {token}"));
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let (status, _, body) = self.app.send_request(request.body(body).unwrap()).await;
        (status, body)
    }
}

#[tokio::test]
async fn a_diner_stars_dishes_of_the_brand_only() {
    let d = Diners::new().await;
    let (status, body) = d.app.get("/api/v1/customer/favourites", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let token = d.log_in(PHONE).await["token"].as_str().unwrap().to_owned();
    let path = "/api/v1/customer/favourites";
    let mine = d.app.a.dish.to_string();
    let theirs = d.app.b.dish.to_string();
    let (status, body) = d
        .as_diner(
            Method::POST,
            path,
            &token,
            Some(json!({"dish_ids": [mine]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dish_ids"], json!([mine]));

    let (status, body) = d
        .as_diner(
            Method::POST,
            path,
            &token,
            Some(json!({"dish_ids": [theirs]})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another brand's dish: {body}"
    );
    let (status, body) = d
        .as_diner(
            Method::POST,
            path,
            &token,
            Some(json!({"dish_ids": "soup"})),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY")
    );

    let (status, _) = d
        .as_diner(Method::DELETE, &format!("{path}/{mine}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = d.as_diner(Method::GET, path, &token, None).await;
    assert_eq!(
        (status, body["dish_ids"].clone()),
        (StatusCode::OK, json!([]))
    );
    d.app.cleanup().await;
}

#[tokio::test]
async fn the_per_client_send_limit_counts_each_diner_behind_the_proxy() {
    let mut d = Diners::new().await;
    d.app.trust_proxies(&["10.0.0.1"]);
    // One client asks for codes to thirty phones: the thirty-first is refused…
    for i in 0..30 {
        let phone = format!("1390000{i:04}");
        let status = d.request_code_via("10.0.0.1", "203.0.113.7", &phone).await;
        assert_eq!(status, StatusCode::ACCEPTED, "phone {phone}");
    }
    let status = d
        .request_code_via("10.0.0.1", "203.0.113.7", "13900009999")
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …while another diner behind the same proxy still gets their code.
    let status = d.request_code_via("10.0.0.1", "198.51.100.2", PHONE).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    d.app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_get_no_more_than_five_checks() {
    let d = Diners::new().await;
    d.request_code(PHONE).await;
    let bad = wrong(&d.sms.last_code_for(PHONE));
    let guesses: Vec<_> = (0..30)
        .map(|_| {
            let router = d.app.router.clone();
            let body = json!({"phone": PHONE, "code": bad}).to_string();
            let path = d.path("login");
            tokio::spawn(async move {
                let request = Request::post(path)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
                    .await
                    .unwrap();
                let body: Value = serde_json::from_slice(&bytes).unwrap();
                code(&body).to_owned()
            })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap().as_str() {
            "OTP_WRONG" => checked += 1,
            "OTP_LOCKED" => {}
            other => panic!("unexpected answer {other}"),
        }
    }
    // Each guess is counted in the statement that grants it, so the cap holds under a race.
    assert_eq!(checked, 5);
    d.app.cleanup().await;
}
