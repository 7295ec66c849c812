//! Rules of the contract that the derived schemas cannot carry by themselves, stated on the
//! document in one place: which files an upload takes, that a set meal (`kind: combo`) has
//! slots while a single dish has none, that several specs each have a name, that a dine-in
//! order names its table, and which objects take no other field.

use diancan_domain::text::{Lines, Name, schema_pattern};
use utoipa::openapi::encoding::EncodingBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr, Schema};

/// The part `file` of each upload, by what the handler reads: the image decoder takes JPEG, PNG
/// and WebP; the menu reader a UTF-8 CSV or an .xlsx workbook.
const UPLOADS: [(&str, &str); 2] = [
    (
        "/api/v1/console/images",
        "image/jpeg, image/png, image/webp",
    ),
    (
        "/api/v1/console/menu/import",
        "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
];

pub fn add_to(document: &mut OpenApi) {
    for (path, content_type) in UPLOADS {
        let body = document
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.post.as_mut())
            .and_then(|operation| operation.request_body.as_mut())
            .and_then(|body| body.content.get_mut("multipart/form-data"));
        if let Some(content) = body {
            content.encoding.insert(
                "file".to_owned(),
                EncodingBuilder::new()
                    .content_type(Some(content_type))
                    .build(),
            );
        }
    }
    let Some(components) = document.components.as_mut() else {
        return;
    };
    if let Some(dish) = components.schemas.get_mut("DishDraft") {
        if let RefOr::T(Schema::Object(draft)) = dish {
            use diancan_domain::catalog::{MAX_ALLERGEN_CHARS, MAX_TAG_CHARS, MAX_TAGS};
            for (field, max_chars) in [("tags", MAX_TAG_CHARS), ("allergens", MAX_ALLERGEN_CHARS)] {
                draft
                    .properties
                    .insert(field.to_owned(), labels(max_chars, MAX_TAGS).into());
            }
        }
        *dish = with_kind_rule(dish.clone());
    }
    if let Some(order) = components.schemas.get_mut("PlaceOrderBody") {
        *order = with_table_rule(order.clone());
    }
    for closed in CLOSED_OBJECTS {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(closed) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
    for tagged in TAGGED_BODIES {
        if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(tagged) {
            for shape in &mut one_of.items {
                if let RefOr::T(Schema::Object(object)) = shape {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

/// Objects whose reader refuses any other field: a point's own `Deserialize`, and the uploads,
/// whose only part is `file` (`upload::single_file`).
const CLOSED_OBJECTS: [&str; 3] = ["GeoPoint", "ImageUpload", "MenuUpload"];

/// Bodies read as one shape per tag with `deny_unknown_fields`: each shape takes no other field.
const TAGGED_BODIES: [&str; 3] = ["CartChangeBody", "TicketCommandBody", "StartPaymentBody"];

/// A dine-in order names its table (`ordering::place` refuses it without: `table_token`
/// REQUIRED); pickup and delivery need none.
fn with_table_rule(body: RefOr<Schema>) -> RefOr<Schema> {
    let channel = |channels: &[&str]| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(channels.to_vec()))
    };
    let dine_in = ObjectBuilder::new()
        .property("channel", channel(&["dine_in"]))
        .property(
            "table_token",
            ObjectBuilder::new().schema_type(Type::String),
        )
        .required("channel")
        .required("table_token")
        .description(Some("Dine-in: the table's token is required"));
    let elsewhere = ObjectBuilder::new().property("channel", channel(&["pickup", "delivery"]));
    let description = match &body {
        RefOr::T(Schema::Object(object)) => object.description.clone(),
        _ => None,
    };
    AllOfBuilder::new()
        .item(body)
        .item(OneOfBuilder::new().item(dine_in).item(elsewhere))
        .description(description)
        .into()
}

/// Tags and allergens (招牌, 花生): each a short one-line label that is not blank.
fn labels(max_chars: usize, max_items: usize) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(max_chars))
                .pattern(Some(schema_pattern(Lines::One, true, false))),
        )
        .max_items(Some(max_items))
}

/// `DishDraft` and, per `kind`, what `combo_slots` must be (`DishDraft::parse` refuses the rest:
/// `EMPTY` for a combo without slots, `INVALID_CHOICE` for a single dish with some).
fn with_kind_rule(draft: RefOr<Schema>) -> RefOr<Schema> {
    let kind = |kinds: &[&str]| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(kinds.to_vec()))
    };
    let slots = |min: usize, max: usize| {
        ArrayBuilder::new()
            .items(Ref::from_schema_name("ComboSlotDraft"))
            .min_items(Some(min))
            .max_items(Some(max))
    };
    let single = ObjectBuilder::new()
        .property("kind", kind(&["single"]))
        .property("combo_slots", slots(0, 0))
        .description(Some("A single dish (the default kind): no combo slots"));
    let combo = ObjectBuilder::new()
        .property("kind", kind(&["combo"]))
        .property(
            "combo_slots",
            slots(1, diancan_domain::catalog::MAX_COMBO_SLOTS),
        )
        .required("kind")
        .required("combo_slots")
        .description(Some("A set meal: at least one slot to choose in"));
    let description = match &draft {
        RefOr::T(Schema::Object(object)) => object.description.clone(),
        _ => None,
    };
    // With several specs each needs a name (大/中/小); a single spec may go unnamed.
    let one_spec = ObjectBuilder::new().property(
        "skus",
        ArrayBuilder::new()
            .items(Ref::from_schema_name("SkuDraft"))
            .max_items(Some(1)),
    );
    let named = ObjectBuilder::new()
        .property(
            "name",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(Name::MAX_CHARS))
                .pattern(Some(schema_pattern(Lines::One, true, false))),
        )
        .required("name");
    let several_specs =
        ObjectBuilder::new().property("skus", ArrayBuilder::new().items(named).min_items(Some(2)));
    AllOfBuilder::new()
        .item(draft)
        .item(OneOfBuilder::new().item(single).item(combo))
        .item(OneOfBuilder::new().item(one_spec).item(several_specs))
        .description(description)
        .into()
}
