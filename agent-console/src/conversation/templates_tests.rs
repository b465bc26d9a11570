use super::*;

fn values(pairs: &[(u32, &str)]) -> BTreeMap<u32, String> {
    pairs.iter().map(|(n, v)| (*n, v.to_string())).collect()
}

/// A template as the server keeps it from Meta.
fn meta(name: &str, language: &str, status: &str, body: &str) -> Value {
    json!({"id": "1", "name": name, "language": language, "status": status,
           "category": "UTILITY", "components": [{"type": "BODY", "text": body}]})
}

fn order_update() -> Template {
    parse(
        &json!({"id": "9", "name": "order_update", "language": "pt_BR",
        "status": "APPROVED", "category": "UTILITY", "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Pedido"},
            {"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu"},
            {"type": "FOOTER", "text": "Loja Acme"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Ok"},
                {"type": "URL", "text": "Site", "url": "https://acme.test/"}]}]}),
    )
    .expect("approved")
}

#[test]
fn placeholders_are_numbered_once_each_in_order() {
    assert_eq!(placeholders("Olá {{1}}, seu pedido {{2}} saiu"), vec![1, 2]);
    assert_eq!(
        placeholders("{{2}} antes de {{1}}"),
        vec![1, 2],
        "out of order"
    );
    assert_eq!(
        placeholders("{{1}} e {{1}} de novo, {{3}}"),
        vec![1, 3],
        "repeated"
    );
    assert_eq!(placeholders("{{ 2 }}"), vec![2], "spaces inside");
    assert_eq!(placeholders("{{10}} {{9}}"), vec![9, 10], "as numbers");
    for none in [
        "",
        "Sem nada",
        "{1}",
        "{{}}",
        "{{0}}",
        "{{1",
        "{{a b}}",
        "{{first_name}}",
    ] {
        assert_eq!(placeholders(none), Vec::<u32>::new(), "{none}");
    }
    assert_eq!(placeholders("{{{1}}}"), vec![1]);
    assert_eq!(
        pieces("Hi {{name}} {{x y}}{{1}}"),
        vec![
            Piece::Text("Hi "),
            Piece::Named("name"),
            Piece::Text(" {{x y}}"),
            Piece::Slot(1)
        ]
    );
}

#[test]
fn the_preview_fills_what_is_typed_and_shows_what_is_missing() {
    let body = "Olá {{1}}, seu pedido {{2}} saiu. Obrigado, {{1}}!";
    assert_eq!(
        fill(body, &values(&[(1, " Joana "), (2, "#123")])),
        "Olá Joana, seu pedido #123 saiu. Obrigado, Joana!"
    );
    assert_eq!(
        fill(body, &values(&[(2, "#123"), (1, "  ")])),
        "Olá {{1}}, seu pedido #123 saiu. Obrigado, {{1}}!"
    );
    assert_eq!(
        fill("{{2}} e {{1}}", &values(&[(1, "a"), (2, "b")])),
        "b e a"
    );
    assert_eq!(fill("Sem nada {x}", &BTreeMap::new()), "Sem nada {x}");
    // A value that looks like a placeholder is text, not filled again.
    assert_eq!(
        fill("{{1}} {{2}}", &values(&[(1, "{{2}}"), (2, "b")])),
        "{{2}} b"
    );
}

#[test]
fn only_approved_templates_are_offered_by_name() {
    let list = vec![
        meta("shipping", "en_US", "APPROVED", "Hi {{1}}"),
        meta("promo", "pt_BR", "REJECTED", "Oferta {{1}}"),
        meta(
            "order_update",
            "pt_BR",
            "APPROVED",
            "Olá {{1}}, pedido {{2}}",
        ),
        meta("welcome", "pt_BR", "PENDING", "Bem-vindo"),
        meta("order_update", "en_US", "APPROVED", "Hi {{1}}, order {{2}}"),
        json!({"name": "no_body", "language": "en", "status": "APPROVED", "components": []}),
        json!({"language": "en", "status": "APPROVED",
               "components": [{"type": "BODY", "text": "x"}]}),
        json!("not an object"),
    ];
    let offered: Vec<String> = approved(&list).iter().map(Template::key).collect();
    assert_eq!(
        offered,
        ["order_update|en_US", "order_update|pt_BR", "shipping|en_US"]
    );
    assert!(approved(&[]).is_empty());
}

#[test]
fn the_search_matches_names_languages_and_text() {
    let list = approved(&[
        meta("order_update", "pt_BR", "APPROVED", "Seu pedido {{1}} saiu"),
        meta(
            "order_update",
            "en_US",
            "APPROVED",
            "Your order {{1}} has shipped",
        ),
        meta(
            "appointment_reminder",
            "pt_BR",
            "APPROVED",
            "Lembrete: {{1}}",
        ),
    ]);
    let names = |q: &str| -> Vec<String> { search(&list, q).iter().map(|t| t.key()).collect() };
    assert_eq!(names("").len(), 3);
    assert_eq!(names("ORDER pt_br"), ["order_update|pt_BR"]);
    assert_eq!(
        names("order update"),
        ["order_update|en_US", "order_update|pt_BR"]
    );
    assert_eq!(names("lembrete"), ["appointment_reminder|pt_BR"]);
    assert!(names("nothing").is_empty());
}

#[test]
fn a_template_shows_its_header_and_footer_and_needs_every_value() {
    let t = order_update();
    assert_eq!(t.header.as_deref(), Some("Pedido"));
    assert_eq!(t.footer.as_deref(), Some("Loja Acme"));
    assert_eq!(t.category, "UTILITY");
    assert_eq!(t.unsupported, None);
    assert_eq!(t.slots(), vec![1, 2]);
    assert!(!t.complete(&values(&[(1, "Joana")])));
    assert!(!t.complete(&values(&[(1, "Joana"), (2, " ")])));
    assert!(t.complete(&values(&[(1, "Joana"), (2, "#123")])));
    let plain = parse(&meta("hello", "en", "approved", "Hello!")).expect("any case");
    assert!(plain.complete(&BTreeMap::new()), "no placeholders");
}

#[test]
fn the_request_sends_the_filled_body_and_numbered_values() {
    let body = request(
        &order_update(),
        &values(&[(2, "#123 "), (1, "Joana")]),
        "c1-2",
    )
    .expect("complete");
    assert_eq!(
        body,
        json!({"content": "Olá Joana, seu pedido #123 saiu", "private": false,
            "echo_id": "c1-2", "template_params": {"name": "order_update",
            "language": "pt_BR", "processed_params": {"1": "Joana", "2": "#123"}}})
    );
    assert_eq!(
        request(&order_update(), &values(&[(1, "Joana")]), "e"),
        Err(NotReady::Missing(2))
    );
    let plain = parse(&meta("hello", "en", "APPROVED", "Hello!")).unwrap();
    assert_eq!(
        request(&plain, &BTreeMap::new(), "e").unwrap()["template_params"]["processed_params"],
        json!({})
    );
}

#[test]
fn parameters_the_server_cannot_fill_are_said_not_sent() {
    let with = |components: Value| {
        parse(&json!({"name": "t", "language": "en", "status": "APPROVED",
                      "components": components}))
        .unwrap()
        .unsupported
    };
    let body = json!({"type": "BODY", "text": "Hi {{1}}"});
    assert_eq!(
        with(json!([{"type": "HEADER", "format": "IMAGE"}, body])),
        Some(Unsupported::MediaHeader)
    );
    assert_eq!(
        with(json!([{"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"}, body])),
        Some(Unsupported::HeaderParameter)
    );
    assert_eq!(
        with(json!([body, {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Track", "url": "https://acme.test/t/{{1}}"}]}])),
        Some(Unsupported::ButtonParameter)
    );
    assert_eq!(
        with(json!([{"type": "BODY", "text": "Hi {{first_name}}"}])),
        Some(Unsupported::NamedParameter)
    );
    let t = parse(&json!({"name": "t", "language": "en", "status": "APPROVED",
        "components": [{"type": "HEADER", "format": "VIDEO"}, body]}))
    .unwrap();
    assert!(!t.complete(&values(&[(1, "x")])));
    assert_eq!(
        request(&t, &values(&[(1, "x")]), "e"),
        Err(NotReady::Unsupported(Unsupported::MediaHeader))
    );
}

#[test]
fn a_refusal_naming_the_window_is_told_apart() {
    let window = Failure::from_response(
        422,
        r#"{"error":"validation_failed","message":"content is free text outside WhatsApp's 24-hour customer window","errors":[{"field":"content","message":"is free text outside WhatsApp's 24-hour customer window","code":"outside_window"}]}"#,
    );
    assert!(window_refusal(&window));
    let other = Failure::from_response(
        422,
        r#"{"error":"validation_failed","message":"content can't be blank","errors":[]}"#,
    );
    assert!(!window_refusal(&other));
    assert!(!window_refusal(&Failure::network()));
}
