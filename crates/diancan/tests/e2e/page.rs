//! Browser steps that survive a redraw. The pages rebuild their DOM whenever live data arrives,
//! so an element handle taken a moment ago may point at a node that is gone ("stale element
//! reference"). Every step here therefore runs inside the page: it looks its element up at the
//! moment it acts, and it waits by re-checking its condition on every change to the DOM
//! (a `MutationObserver`), not by sleeping. No step returns an element handle.

use crate::harness::PAGE_WAIT;
use serde_json::{Value, json};
use std::time::Instant;
use thirtyfour::prelude::*;

/// Wraps a step's body (a JS function body over `args` that returns something truthy when done)
/// into a script that resolves with that value as soon as it is truthy, re-running the body on
/// every DOM mutation, or with `null` once `ms` milliseconds have passed. The body is spliced
/// into the script rather than evaluated from a string, so a page's CSP cannot refuse it.
fn waiting_script(body: &str) -> String {
    format!(
        r#"const args = arguments[0], ms = arguments[1];
const step = (args) => {{ {body} }};
return new Promise((resolve) => {{
  let done = false, observer = null, timer = null;
  const finish = (value) => {{
    if (done) return;
    done = true;
    if (observer) observer.disconnect();
    clearTimeout(timer);
    resolve(value);
  }};
  const check = () => {{
    if (done) return;
    let value = null;
    try {{ value = step(args); }} catch (error) {{ value = null; }}
    if (value) finish(value);
  }};
  observer = new MutationObserver(check);
  observer.observe(document, {{ subtree: true, childList: true, attributes: true, characterData: true }});
  timer = setTimeout(() => finish(null), ms);
  check();
}});"#
    )
}

/// Runs `body` in the page until it returns something truthy, and returns that. `args` reaches
/// the body as `args`. A navigation that unloads the page mid-wait is not a failure: the step
/// starts again on the new document until [`PAGE_WAIT`] has passed.
pub async fn wait_for(
    driver: &WebDriver,
    body: &str,
    args: Value,
    what: &str,
) -> anyhow::Result<Value> {
    let script = waiting_script(body);
    let deadline = Instant::now() + PAGE_WAIT;
    let mut last_error = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let ms = json!(left.as_millis() as u64);
        match driver.execute(&script, vec![args.clone(), ms]).await {
            Ok(outcome) => {
                let value = outcome.json().clone();
                if !value.is_null() && value != Value::Bool(false) {
                    return Ok(value);
                }
            }
            // The document went away under the script (a navigation); try on the next one.
            Err(error) => last_error = Some(error),
        }
    }
    match last_error {
        Some(error) => anyhow::bail!("timed out waiting for {what} (last error: {error})"),
        None => anyhow::bail!("timed out waiting for {what}"),
    }
}

/// Waits until the JS expression `condition` (over `args`) holds.
pub async fn until(
    driver: &WebDriver,
    condition: &str,
    args: Value,
    what: &str,
) -> anyhow::Result<()> {
    wait_for(driver, &format!("return !!({condition});"), args, what).await?;
    Ok(())
}

/// JS: the first element matching `css` that is drawn (has a box), or null.
const FIRST_SHOWN: &str = "const first = (css) => Array.from(document.querySelectorAll(css)) \
     .find((e) => e.getClientRects().length > 0) || null;";

/// Taps the first shown element matching `css` once it is enabled: looked up, centred (so a
/// sticky header or the cart bar does not cover it) and clicked in one go, inside the page.
pub async fn tap(driver: &WebDriver, css: &str) -> anyhow::Result<()> {
    let body = format!(
        "{FIRST_SHOWN} const e = first(args.css); \
         if (!e || e.disabled || e.getAttribute('aria-disabled') === 'true') return false; \
         e.scrollIntoView({{ block: 'center' }}); e.click(); return true;"
    );
    wait_for(
        driver,
        &body,
        json!({ "css": css }),
        &format!("{css} to tap"),
    )
    .await?;
    Ok(())
}

/// Waits until an element matching `css` is in the page.
pub async fn present(driver: &WebDriver, css: &str) -> anyhow::Result<()> {
    until(
        driver,
        "document.querySelector(args.css)",
        json!({ "css": css }),
        css,
    )
    .await
}

/// The number of distinct `data-dish-id`s on the page once it reaches `at_least`.
pub async fn dish_count(driver: &WebDriver, at_least: usize) -> anyhow::Result<usize> {
    const COUNT: &str = "const n = new Set(Array.from(document.querySelectorAll('[data-dish-id]'), \
                         (e) => e.getAttribute('data-dish-id'))).size; \
                         return n >= args.at_least ? n : false;";
    let count = wait_for(
        driver,
        COUNT,
        json!({ "at_least": at_least }),
        &format!("at least {at_least} dishes on the page"),
    )
    .await?;
    Ok(count.as_u64().unwrap_or(0) as usize)
}

/// The trimmed text of the first shown element matching `css`, once it has some.
pub async fn text(driver: &WebDriver, css: &str) -> anyhow::Result<String> {
    let body = format!(
        "{FIRST_SHOWN} const e = first(args.css); \
         const text = e ? e.textContent.trim() : ''; return text || false;"
    );
    let text = wait_for(
        driver,
        &body,
        json!({ "css": css }),
        &format!("text in {css}"),
    )
    .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Waits until the first element matching `css` shows exactly `expected`.
pub async fn text_is(driver: &WebDriver, css: &str, expected: &str) -> anyhow::Result<()> {
    until(
        driver,
        "(() => { const e = document.querySelector(args.css); \
          return !!e && e.textContent.trim() === args.expected; })()",
        json!({ "css": css, "expected": expected }),
        &format!("{css} showing {expected:?}"),
    )
    .await
}

/// Types `value` into the first shown field matching `css` as a person would leave it: the
/// value replaced, then `input` and `change` fired so the page's handlers see it. Returns once
/// the field holds it.
pub async fn fill(driver: &WebDriver, css: &str, value: &str) -> anyhow::Result<()> {
    let body = format!(
        "{FIRST_SHOWN} const e = first(args.css); if (!e || e.disabled) return false; \
         e.focus(); e.value = args.value; \
         e.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         e.dispatchEvent(new Event('change', {{ bubbles: true }})); \
         return e.value === args.value;"
    );
    wait_for(
        driver,
        &body,
        json!({ "css": css, "value": value }),
        &format!("{css} to take {value:?}"),
    )
    .await?;
    Ok(())
}
