//! A diner's starred dishes (收藏). Every statement is scoped by the customer's brand, so a
//! dish of another brand can neither be starred nor listed.

use crate::db::Db;
use crate::error::Result;
use diancan_domain::{BrandId, CustomerId, DishId};
use uuid::Uuid;

/// Stars a dish of the brand; starring twice is not an error. False when the brand has no such dish.
const ADD: &str = "INSERT INTO customer_favourites (customer_id, dish_id, created_at_ms)
    SELECT $1, d.id, $4 FROM dishes d WHERE d.id = $2 AND d.brand_id = $3
    ON CONFLICT (customer_id, dish_id) DO NOTHING";
const DISH_OF_BRAND: &str = "SELECT COUNT(*) FROM dishes WHERE id = $1 AND brand_id = $2";
const REMOVE: &str = "DELETE FROM customer_favourites WHERE customer_id = $1 AND dish_id = $2";
const LIST: &str = "SELECT f.dish_id FROM customer_favourites f JOIN dishes d ON d.id = f.dish_id
    WHERE f.customer_id = $1 AND d.brand_id = $2 ORDER BY f.created_at_ms DESC, f.dish_id";

impl Db {
    /// Stars `dishes` for the customer in one transaction (one tap, or a guest's list at sign-in).
    /// Returns false, and stars nothing, when any of them is not a dish of the brand.
    pub async fn add_favourites(
        &self,
        brand: BrandId,
        customer: CustomerId,
        dishes: &[DishId],
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        for dish in dishes {
            let (known,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(DISH_OF_BRAND)
                .bind(dish.as_uuid())
                .bind(brand.as_uuid())
                .fetch_one(&mut *c)
                .await)?;
            if known == 0 {
                return Ok(false);
            }
            on_tx!(&mut tx, |c| sqlx::query(ADD)
                .bind(customer.as_uuid())
                .bind(dish.as_uuid())
                .bind(brand.as_uuid())
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn remove_favourite(&self, customer: CustomerId, dish: DishId) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(REMOVE)
            .bind(customer.as_uuid())
            .bind(dish.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// The customer's starred dishes of the brand, newest first.
    pub async fn favourites(&self, brand: BrandId, customer: CustomerId) -> Result<Vec<DishId>> {
        let rows: Vec<(Uuid,)> = on_pool!(self, |p| sqlx::query_as(LIST)
            .bind(customer.as_uuid())
            .bind(brand.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id,)| DishId::from_uuid(id))
            .collect())
    }
}
