//! Reading the first sheet of an .xlsx workbook as rows of text, within the limits of `limits`.
//! calamine's `worksheet_range` allocates the rows × columns box between the first and the last
//! used cell, and opening a workbook reserves as many shared strings as the file claims; so the
//! zip is measured first, and the sheet is streamed cell by cell into rows that hold only used cells.

use super::MenuFileError;
use super::limits::{self, MAX_CELLS, MAX_UNPACKED_BYTES, SheetLimit};
use super::read::NumberedRow;
use calamine::{Data, DataRef, Reader, Xlsx, open_workbook_from_rs};
use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};

fn unreadable(error: impl std::fmt::Display) -> MenuFileError {
    MenuFileError::Unreadable(error.to_string())
}

/// The first sheet's non-blank rows, numbered as Excel shows them.
pub(super) fn sheet_rows(bytes: &[u8]) -> Result<Vec<NumberedRow>, MenuFileError> {
    check_package(bytes)?;
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(MenuFileError::Empty)?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(unreadable)?;
    // The declared extent alone may already be too large; no cell needs reading to say so.
    let declared = cells.dimensions();
    limits::check_cell(declared.end.0, declared.end.1, 0).map_err(MenuFileError::TooLarge)?;

    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut seen: u64 = 0;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        seen += 1;
        let (row, column) = cell.get_position();
        limits::check_cell(row, column, seen).map_err(MenuFileError::TooLarge)?;
        let text = cell_text(cell.get_value());
        if !text.is_empty() {
            rows.entry(row).or_default().push((column, text));
        }
    }
    Ok(rows
        .into_iter()
        .map(|(row, used)| NumberedRow {
            number: row as usize + 1,
            cells: spread(used),
        })
        .collect())
}

/// A row's used cells laid out by column, blanks between them.
fn spread(used: Vec<(u32, String)>) -> Vec<String> {
    let width = used.iter().map(|(column, _)| *column as usize + 1).max();
    let mut cells = vec![String::new(); width.unwrap_or(0)];
    for (column, text) in used {
        cells[column as usize] = text;
    }
    cells
}

fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_owned(),
        // `{}` prints the shortest text that reads back as the same number: 28.5, 3.
        DataRef::Float(number) => format!("{number}"),
        other => Data::from(other.clone()).to_string(),
    }
}

/// Unpacks every part once, counting bytes as they come out (a part's declared size may lie),
/// and reads how many shared strings the workbook claims before calamine reserves room for them.
fn check_package(bytes: &[u8]) -> Result<(), MenuFileError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut unpacked: u64 = 0;
    for index in 0..zip.len() {
        let part = zip.by_index(index).map_err(unreadable)?;
        if part.is_dir() {
            continue;
        }
        let budget = MAX_UNPACKED_BYTES - unpacked;
        if part.size() > budget {
            return Err(MenuFileError::TooLarge(SheetLimit::UnpackedBytes));
        }
        let shared_strings = part
            .name()
            .map_err(unreadable)?
            .to_ascii_lowercase()
            .ends_with("sharedstrings.xml");
        let mut counted = Counted {
            inner: part,
            count: 0,
            budget,
        };
        if shared_strings {
            check_shared_strings(&mut counted)?;
        }
        let drained = io::copy(&mut counted, &mut io::sink());
        if counted.count > budget {
            return Err(MenuFileError::TooLarge(SheetLimit::UnpackedBytes));
        }
        drained.map_err(unreadable)?;
        unpacked += counted.count;
    }
    Ok(())
}

fn check_shared_strings(part: &mut impl Read) -> Result<(), MenuFileError> {
    let mut xml = quick_xml::Reader::from_reader(io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))
                if e.local_name().as_ref() == "sst" =>
            {
                let claimed = e
                    .try_get_attribute("uniqueCount")
                    .ok()
                    .flatten()
                    .and_then(|a| a.value.trim().parse::<u64>().ok());
                return match claimed {
                    Some(count) if count > MAX_CELLS => {
                        Err(MenuFileError::TooLarge(SheetLimit::Cells))
                    }
                    _ => Ok(()),
                };
            }
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            // calamine will report a malformed part in its own words.
            Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// Counts the bytes read through it and stops with an error once past `budget`.
struct Counted<R> {
    inner: R,
    count: u64,
    budget: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.count > self.budget {
            return Err(io::Error::other("unpacked past the limit"));
        }
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SheetLimit, read_any, read_csv};
    use super::*;
    use std::io::Write;

    const HEADER: [&str; 17] = [
        "分类",
        "分类排序",
        "菜品",
        "英文名",
        "描述",
        "标签",
        "档口",
        "规格编码",
        "规格",
        "价格",
        "上架",
        "口味加料",
        "排序",
        "配料",
        "过敏原",
        "热量",
        "份量",
    ];

    /// A workbook with our header, one dish in row 2, and `extra` cells (0-based row, column).
    fn workbook(extra: &[(u32, u16)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (col, header) in HEADER.iter().enumerate() {
            sheet.write_string(0, col as u16, *header).unwrap();
        }
        for (col, text) in [(0, "面食"), (2, "牛肉面"), (7, "NR"), (9, "28")] {
            sheet.write_string(1, col, text).unwrap();
        }
        for &(row, col) in extra {
            sheet.write_string(row, col, "x").unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// The same workbook with one part rewritten: what no honest writer produces.
    fn with_part(xlsx: &[u8], part: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
        let mut source = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for index in 0..source.len() {
            let mut file = source.by_index(index).unwrap();
            let name = file.name().unwrap().into_owned();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            let text = if name == part { edit(text) } else { text };
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn too_large(bytes: &[u8]) -> Option<SheetLimit> {
        match read_any("menu.xlsx", bytes) {
            Err(MenuFileError::TooLarge(limit)) => Some(limit),
            _ => None,
        }
    }

    #[test]
    fn an_honest_workbook_reads_with_excel_row_numbers() {
        let sheet = read_any("menu.xlsx", &workbook(&[])).unwrap();
        let dish = &sheet.categories[0].dishes[0];
        assert_eq!((dish.name.as_str(), dish.first_row), ("牛肉面", 2));
    }

    #[test]
    fn a_far_cell_is_refused_by_its_limit_not_by_a_gigabyte() {
        // The reported file: A1 and XFD1000. A dense read allocates 16 million cells.
        assert_eq!(
            too_large(&workbook(&[(999, 16_383)])),
            Some(SheetLimit::Columns)
        );
        // A cell in the sheet's last row; a dense read cannot even be allocated.
        assert_eq!(
            too_large(&workbook(&[(1_048_575, 0)])),
            Some(SheetLimit::Rows)
        );
        assert_eq!(
            too_large(&workbook(&[(1_048_575, 16_383)])),
            Some(SheetLimit::Rows)
        );
        // Inside the limits, a sparse sheet is just a sheet, its rows numbered as Excel shows them.
        let Err(MenuFileError::Rows(rows)) = read_any("menu.xlsx", &workbook(&[(9_000, 60)]))
        else {
            panic!("a stray cell in row 9001 is read as a spec row")
        };
        assert_eq!(rows.last().map(|r| r.row), Some(9_001));
    }

    #[test]
    fn a_declared_extent_past_the_limits_is_refused_before_reading_cells() {
        let lying = with_part(&workbook(&[]), "xl/worksheets/sheet1.xml", |xml| {
            let start = xml.find("<dimension ref=\"").unwrap() + "<dimension ref=\"".len();
            let end = start + xml[start..].find('"').unwrap();
            format!("{}A1:XFD1048576{}", &xml[..start], &xml[end..])
        });
        assert_eq!(too_large(&lying), Some(SheetLimit::Rows));
    }

    #[test]
    fn a_claimed_count_of_shared_strings_is_checked_before_calamine_reserves_it() {
        let lying = with_part(&workbook(&[]), "xl/sharedStrings.xml", |xml| {
            let start = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = start + xml[start..].find('"').unwrap();
            format!("{}4000000000{}", &xml[..start], &xml[end..])
        });
        assert_eq!(too_large(&lying), Some(SheetLimit::Cells));
    }

    #[test]
    fn a_part_that_unpacks_past_the_limit_is_refused_while_unpacking() {
        let mut book = zip::ZipArchive::new(Cursor::new(workbook(&[]))).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for index in 0..book.len() {
            out.raw_copy_file(book.by_index(index).unwrap()).unwrap();
        }
        let fast = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        out.start_file("xl/media/padding.bin", fast).unwrap();
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..=MAX_UNPACKED_BYTES / zeros.len() as u64 {
            out.write_all(&zeros).unwrap();
        }
        let bytes = out.finish().unwrap().into_inner();
        assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
        assert_eq!(too_large(&bytes), Some(SheetLimit::UnpackedBytes));
    }

    #[test]
    fn a_csv_line_of_commas_is_a_sheet_too_wide() {
        let mut csv = HEADER.join(",");
        csv.push('\n');
        csv.push_str(&",".repeat(100_000));
        assert_eq!(
            read_csv(csv.as_bytes()),
            Err(MenuFileError::TooLarge(SheetLimit::Columns))
        );
    }
}
