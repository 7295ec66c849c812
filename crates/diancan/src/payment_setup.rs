//! Which payment gateways a server pays through. Demo mode: both simulators with the published
//! test keys. Otherwise each gateway whose settings are all present, against the real gateway;
//! one half-configured is refused at start, and one not configured is simply not offered.

use crate::cli::PaymentArgs;
use diancan_domain::payments::PaymentProvider;
use diancan_integrations::payments::alipay::{self, Alipay, AlipayConfig};
use diancan_integrations::payments::keys::{GatewayPublicKey, MerchantKey};
use diancan_integrations::payments::system_clock;
use diancan_integrations::payments::transport::ReqwestTransport;
use diancan_integrations::payments::wechat_pay::aead::ApiV3Key;
use diancan_integrations::payments::wechat_pay::verify::PlatformKeys;
use diancan_integrations::payments::wechat_pay::{self, WechatPay, WechatPayConfig};
use diancan_usecases::payments::{ConfiguredGateway, MerchantAccount, PaymentGateways};
use diancan_web::AppState;
use std::path::Path;
use std::sync::Arc;

/// The state paying as configured; returns the banner's lines about it.
pub fn configure(
    state: AppState,
    args: &PaymentArgs,
    demo: bool,
) -> anyhow::Result<(AppState, Vec<String>)> {
    if demo {
        let state = state.with_simulated_payments();
        if let Some(url) = &args.public_url {
            state.payments.set_public_base(url);
        }
        return Ok((
            state,
            vec!["支付 payments: 微信支付与支付宝模拟器 WeChat Pay and Alipay simulators".into()],
        ));
    }
    let mut notes = Vec::new();
    let mut gateways = PaymentGateways::default();
    if let Some(wechat) = wechat_pay(args)? {
        notes.push(format!(
            "微信支付 WeChat Pay: mchid {}",
            wechat.account.merchant_id
        ));
        gateways = gateways.with(PaymentProvider::WechatPay, wechat);
    }
    if let Some(alipay) = alipay(args)? {
        notes.push(format!("支付宝 Alipay: app {}", alipay.account.app_id));
        gateways = gateways.with(PaymentProvider::Alipay, alipay);
    }
    if gateways.offered().is_empty() {
        notes.push("在线支付未配置 online payment: off (see README, Payments)".into());
    } else {
        let Some(url) = args.public_url.as_deref() else {
            anyhow::bail!(
                "在线支付需要 DIANCAN_PUBLIC_URL · online payment needs DIANCAN_PUBLIC_URL, the https address gateways post notifications to"
            );
        };
        if !url.starts_with("https://") {
            anyhow::bail!(
                "DIANCAN_PUBLIC_URL 必须是 https 地址 · DIANCAN_PUBLIC_URL must be https (gateways refuse plain http)"
            );
        }
        gateways.set_public_base(url);
    }
    Ok((state.with_payments(gateways, None), notes))
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))
}

fn wechat_pay(args: &PaymentArgs) -> anyhow::Result<Option<ConfiguredGateway>> {
    let parts = (
        &args.wechatpay_mchid,
        &args.wechatpay_app_id,
        &args.wechatpay_serial_no,
        &args.wechatpay_key_file,
        &args.wechatpay_api_v3_key,
        &args.wechatpay_platform_key_file,
        &args.wechatpay_platform_key_id,
    );
    let (
        Some(mchid),
        Some(app_id),
        Some(serial),
        Some(key_file),
        Some(v3_key),
        Some(platform_file),
        Some(platform_id),
    ) = parts
    else {
        let any = args.wechatpay_mchid.is_some()
            || args.wechatpay_app_id.is_some()
            || args.wechatpay_serial_no.is_some()
            || args.wechatpay_key_file.is_some()
            || args.wechatpay_api_v3_key.is_some()
            || args.wechatpay_platform_key_file.is_some()
            || args.wechatpay_platform_key_id.is_some();
        if any {
            anyhow::bail!(
                "微信支付配置不完整 · WeChat Pay needs all of DIANCAN_WECHATPAY_MCHID, _APP_ID, _SERIAL_NO, _KEY_FILE, _API_V3_KEY, _PLATFORM_KEY_FILE and _PLATFORM_KEY_ID"
            );
        }
        return Ok(None);
    };
    let merchant_key = MerchantKey::parse(&read(key_file, "WeChat Pay key")?)
        .map_err(|e| anyhow::anyhow!("WeChat Pay key: {e}"))?;
    let platform_key = GatewayPublicKey::parse(&read(platform_file, "WeChat Pay platform key")?)
        .map_err(|e| anyhow::anyhow!("WeChat Pay platform key: {e}"))?;
    let api_v3_key =
        ApiV3Key::parse(v3_key).map_err(|e| anyhow::anyhow!("WeChat Pay API v3 key: {e}"))?;
    let client = WechatPay::new(
        WechatPayConfig {
            mchid: mchid.clone(),
            app_id: app_id.clone(),
            merchant_serial_no: serial.clone(),
            merchant_key,
            api_v3_key,
            platform_keys: PlatformKeys::new().with_key(platform_id, platform_key),
            base_url: wechat_pay::API_BASE.into(),
        },
        Arc::new(ReqwestTransport::new()?),
        system_clock(),
    );
    Ok(Some(ConfiguredGateway {
        gateway: Arc::new(client),
        account: MerchantAccount {
            merchant_id: mchid.clone(),
            app_id: app_id.clone(),
        },
    }))
}

fn alipay(args: &PaymentArgs) -> anyhow::Result<Option<ConfiguredGateway>> {
    let (Some(app_id), Some(seller), Some(key_file), Some(public_file)) = (
        &args.alipay_app_id,
        &args.alipay_seller_id,
        &args.alipay_key_file,
        &args.alipay_public_key_file,
    ) else {
        if args.alipay_app_id.is_some()
            || args.alipay_seller_id.is_some()
            || args.alipay_key_file.is_some()
            || args.alipay_public_key_file.is_some()
        {
            anyhow::bail!(
                "支付宝配置不完整 · Alipay needs all of DIANCAN_ALIPAY_APP_ID, _SELLER_ID, _KEY_FILE and _PUBLIC_KEY_FILE"
            );
        }
        return Ok(None);
    };
    let merchant_key = MerchantKey::parse(&read(key_file, "Alipay key")?)
        .map_err(|e| anyhow::anyhow!("Alipay key: {e}"))?;
    let alipay_public_key = GatewayPublicKey::parse(&read(public_file, "Alipay public key")?)
        .map_err(|e| anyhow::anyhow!("Alipay public key: {e}"))?;
    let client = Alipay::new(
        AlipayConfig {
            app_id: app_id.clone(),
            merchant_key,
            alipay_public_key,
            gateway_url: alipay::GATEWAY.into(),
        },
        Arc::new(ReqwestTransport::new()?),
        system_clock(),
    );
    Ok(Some(ConfiguredGateway {
        gateway: Arc::new(client),
        account: MerchantAccount {
            merchant_id: seller.clone(),
            app_id: app_id.clone(),
        },
    }))
}
