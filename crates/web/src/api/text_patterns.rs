//! States the shared text rule (`diancan_domain::text`) in the document: every bounded text
//! field gets the pattern that refuses control and bidi characters, and a required name one that
//! also refuses a blank, so a schema-valid text is one the API takes.
//!
//! Applied by field name, since the names are the glossary's and mean one thing everywhere:
//! `note` may span lines; `description`, `description_en` and `ingredients` may too and take a
//! pasted `\r\n`; a required `name`, `address` or `added_by` must not be blank; every other
//! bounded text is one line. A field that states its own pattern keeps it.

use diancan_domain::text::{Lines, schema_pattern};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

pub fn add_to(document: &mut OpenApi) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        if let RefOr::T(schema) = schema {
            walk(schema);
        }
    }
}

fn walk(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            let required = object.required.clone();
            for (name, property) in object.properties.iter_mut() {
                let RefOr::T(property) = property else {
                    continue;
                };
                if let Schema::Object(text) = property
                    && is_text(&text.schema_type)
                {
                    if text.max_length.is_some() && text.pattern.is_none() {
                        let must_fill = required.contains(name)
                            && matches!(name.as_str(), "name" | "address" | "added_by");
                        text.pattern = Some(pattern_for(name, must_fill));
                        if must_fill {
                            text.min_length = Some(text.min_length.unwrap_or(1).max(1));
                        }
                    }
                    continue;
                }
                walk(property);
            }
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(items) = items.as_mut()
            {
                walk(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(walk_ref),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(walk_ref),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(walk_ref),
        _ => {}
    }
}

fn walk_ref(schema: &mut RefOr<Schema>) {
    if let RefOr::T(schema) = schema {
        walk(schema);
    }
}

fn is_text(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn pattern_for(field: &str, must_fill: bool) -> String {
    match field {
        "note" => schema_pattern(Lines::Many, must_fill, false),
        "description" | "description_en" | "ingredients" => {
            schema_pattern(Lines::Many, must_fill, true)
        }
        _ => schema_pattern(Lines::One, must_fill, false),
    }
}
