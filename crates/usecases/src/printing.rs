//! Printing (the next step of the roadmap): print jobs are outbox rows of topic `print`,
//! written with the change they belong to and delivered at least once by `outbox::deliver_due`,
//! deduplicated by the row's id at the printer.
