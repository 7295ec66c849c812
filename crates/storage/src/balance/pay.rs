//! Paying from the balance. A whole order: the member's account is locked first, then the order
//! changes to paid through the same change the gateways' settlement makes, and the order's total
//! is held and captured, all in one transaction, so twenty orders racing one balance queue on
//! the account and the ones it cannot cover change nothing. The balance part of a combined
//! payment is held in the transaction that records its gateway payment.
//!
//! Locks are always taken payment → account → order, whichever path, so none waits in a circle.

use super::{BalanceAccount, NewEntry, Posted, lock_account, post_in};
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::ordering::{ChangeError, ChangeRequest, Decide, change_in};
use diancan_domain::balance::{BalanceRefusal, EntryKind, reference};
use diancan_domain::ordering::{Order, OrderRefusal};
use diancan_domain::payments::Payment;
use diancan_domain::*;

/// What paying a whole order from the balance did.
#[derive(Debug)]
pub enum BalancePayment {
    Paid {
        order: Box<Order>,
        account: BalanceAccount,
    },
    /// The balance does not cover the order: nothing changed.
    Insufficient {
        available: Money,
    },
    /// The order refused to be paid (paid already, cancelled): it is as it is now.
    Refused {
        refusal: OrderRefusal,
        order: Box<Order>,
    },
    NotFound,
}

impl Db {
    /// Pays order `order_id` (in `scope`) in full from `customer`'s balance at the scope's brand;
    /// `pay_order` is the domain's decision to mark it paid, run under the order's lock.
    pub async fn pay_order_by_balance(
        &self,
        customer: CustomerId,
        order_id: OrderId,
        scope: (BrandId, StoreId),
        pay_order: Decide,
        now_ms: i64,
    ) -> Result<BalancePayment> {
        let mut tx = self.begin().await?;
        let Some(mut account) = lock_account(&mut tx, scope.0, customer).await? else {
            tx.rollback().await?;
            return Ok(BalancePayment::Insufficient {
                available: Money::ZERO,
            });
        };
        let request = ChangeRequest {
            order_id,
            scope: Some(scope),
            decide: pay_order,
            now_ms,
        };
        let order = match change_in(&mut tx, &[&request]).await?.pop() {
            Some(Ok(order)) => order,
            Some(Err(ChangeError::Refused { refusal, order })) => {
                tx.rollback().await?;
                return Ok(BalancePayment::Refused { refusal, order });
            }
            Some(Err(ChangeError::Storage(error))) => return Err(error),
            Some(Err(ChangeError::NotFound)) | None => {
                tx.rollback().await?;
                return Ok(BalancePayment::NotFound);
            }
        };
        // Held and captured at once: every balance payment leaves the same two lines, whether
        // its hold lived a moment (this) or while a gateway part was paid (combined).
        for kind in [EntryKind::Hold, EntryKind::Capture] {
            let entry = NewEntry {
                kind,
                amount: order.total,
                reason: "余额支付",
                reference: reference::order(order.id),
                order_id: Some(order.id),
                actor: "diner",
            };
            match post_in(&mut tx, &mut account, entry, now_ms).await? {
                Posted::Written(_) => {}
                Posted::Refused(BalanceRefusal::Insufficient { available }) => {
                    tx.rollback().await?;
                    return Ok(BalancePayment::Insufficient { available });
                }
                Posted::Repeat | Posted::Refused(_) => {
                    return Err(StorageError::Corrupt(format!(
                        "order {} paid by balance twice, or for nothing",
                        order.id
                    )));
                }
            }
        }
        tx.commit().await?;
        self.outbox_bell().notify_one();
        Ok(BalancePayment::Paid {
            order: Box::new(order),
            account,
        })
    }

    /// Records gateway payment `payment` for the rest of its order, and holds `held` of
    /// `customer`'s balance for it, together: a payment whose hold was refused is not written.
    pub async fn create_payment_with_hold(
        &self,
        payment: &Payment,
        customer: CustomerId,
        held: Money,
        now_ms: i64,
    ) -> Result<std::result::Result<BalanceAccount, BalanceRefusal>> {
        let mut tx = self.begin().await?;
        let Some(mut account) = lock_account(&mut tx, payment.brand_id, customer).await? else {
            tx.rollback().await?;
            return Ok(Err(BalanceRefusal::Insufficient {
                available: Money::ZERO,
            }));
        };
        crate::payments::insert_payment_in(&mut tx, payment).await?;
        let entry = NewEntry {
            kind: EntryKind::Hold,
            amount: held,
            reason: "组合支付：余额冻结",
            reference: reference::payment(payment.id),
            order_id: Some(payment.order_id),
            actor: "diner",
        };
        match post_in(&mut tx, &mut account, entry, now_ms).await? {
            Posted::Written(_) => {}
            Posted::Refused(refusal) => {
                tx.rollback().await?;
                return Ok(Err(refusal));
            }
            Posted::Repeat => {
                return Err(StorageError::Corrupt(format!(
                    "payment {} held twice",
                    payment.id
                )));
            }
        }
        tx.commit().await?;
        Ok(Ok(account))
    }
}
