//! Alipay (placeholder while the WeChat side compiles).
