//! Clean burned-in text from pixel data (PS3.15 Clean Pixel Data Option, code 113101).
//!
//! Text burned into the pixels (the patient's name, ID and birth date on ultrasound, secondary
//! captures, screenshots, angiography, endoscopy, scanned documents) is what header tools miss.
//! A [`PixelCleaner`] is built once per run from the options (rules folder, which images to
//! clean) and asked, per image:
//!
//! 1. [`PixelCleaner::select`]: does this image need cleaning? Burned In Annotation YES, or the
//!    attribute absent (or NO, unless `trust_burned_in_no`) on a modality or SOP class that
//!    usually carries text ([`crate::annotated`]); every image with `clean_all`.
//! 2. [`PixelCleaner::clean`]: decode every frame ([`decode`]), collect boxes from the device
//!    rules that match the header ([`rules`]), from outside the ultrasound data regions
//!    ([`us_regions`]) and from the text detector ([`detect`], hinted by the header's own
//!    identifiers), and blank them in every frame. Nothing found: the pixels stay as they were.
//! 3. [`finish`]: after the planner's edits, write the blanked pixels back uncompressed in
//!    Explicit VR Little Endian ([`encode`], [`crate::transcode`]), set Burned In Annotation NO
//!    and add 113101 to the De-identification Method Code Sequence.
//!
//! An image that must be cleaned but cannot be decoded is an error ([`CleanError`]): the
//! pipeline fails the input with the reason, and nothing is written for it.
//!
//! Blank values: the darkest value present in the image for MONOCHROME2 (so the box looks black
//! in any window that shows the image, and no value outside the image's range is introduced),
//! the brightest for MONOCHROME1, black (0, 0, 0) for RGB, and the index of the palette's darkest
//! entry for PALETTE COLOR (index 0 when the palette cannot be read).
//!
//! Nothing here writes files except [`preview`], which the pipeline calls for `--previews`.

pub mod codestream;
pub mod dcmtk;
pub mod decode;
pub mod detect;
pub mod encode;
pub mod preview;
pub mod rewrite;
pub mod rle;
pub mod rules;
pub mod synth;
pub mod tails;
pub mod tiles;
pub mod us_regions;
pub mod voi;

use crate::annotated::BurnedInValue;
use crate::charset::CharacterSet;
use crate::dataset::{DataSet, Element, VR, Value};
use crate::profile::{DeidOption, method_code};
use crate::read::DicomFile;
use crate::transfer::TransferSyntax;
use decode::Frames;
use decode::by_frame::FrameSource;
use detect::{Detector, Found, Hints, Planes};
use dicom_dictionary_std::tags;
use image::{GrayImage, RgbImage};
use rules::{Rect, Rule, RuleError};
use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which images `clean-pixel-data` cleans, and where user rules come from.
#[derive(Debug, Clone, Default)]
pub struct PixelOptions {
    /// A folder of user rule files (`*.toml`), added to the built-in rules.
    pub rules_dir: Option<PathBuf>,
    /// Clean every image with pixel data, whatever its header says.
    pub clean_all: bool,
    /// Trust Burned In Annotation = NO even on modalities that usually carry text.
    pub trust_burned_in_no: bool,
}

/// Why an image is cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// Burned In Annotation is YES.
    Declared,
    /// Its modality or SOP class usually carries burned-in text, or its Image Type says it
    /// is a screen capture ([`crate::annotated::is_annotated_image`]).
    Annotated,
    /// A device rule with rectangles to blank matches it: the device prints patient data
    /// there, whatever the header says (a CT dose screen stored as a CT image).
    Rule,
    /// `clean_all`.
    Forced,
}

/// Where a blanked box comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoxSource {
    /// A device rule (its name).
    Rule(String),
    /// Outside the ultrasound data regions.
    UltrasoundRegions,
    /// The text detector.
    Detector,
    /// The text detector, for an unsure line kept because of the header's identifiers or a
    /// neighbouring text line.
    DetectorHint,
}

impl std::fmt::Display for BoxSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BoxSource::Rule(name) => write!(f, "rule:{name}"),
            BoxSource::UltrasoundRegions => f.write_str("ultrasound-regions"),
            BoxSource::Detector => f.write_str("detector"),
            BoxSource::DetectorHint => f.write_str("detector-hint"),
        }
    }
}

/// One blanked box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanedBox {
    /// The rectangle.
    pub rect: Rect,
    /// Who found it.
    pub source: BoxSource,
    /// The frame (index from 0) the box is blanked in, for a box the detector found in one of
    /// separate pictures ([`FrameSet::Separate`]) or for a piece of a device rule's rectangle
    /// on one tile of a tiled image; `None`: blanked in every frame.
    pub frame: Option<u32>,
    /// For a piece of a device rule's rectangle on one tile of a tiled image: where the piece
    /// lies in the whole image (the Total Pixel Matrix, the coordinates rules are written in;
    /// [`tiles`]); `rect` is the same piece in the tile.
    pub in_image: Option<Rect>,
}

impl CleanedBox {
    /// Whether the box is blanked in frame `frame` (index from 0).
    pub fn in_frame(&self, frame: u32) -> bool {
        self.frame.is_none_or(|f| f == frame)
    }
}

/// How the frames of a multi-frame image relate, which decides whether a box the detector finds
/// in one frame is blanked in the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSet {
    /// One screen over time (an ultrasound or angiography cine, a video): burned-in text stays
    /// in place, so a box found in any frame is blanked in every frame, boxes kept on loose
    /// evidence wait for the other frames to confirm them, and the further passes search the
    /// brightest value of each pixel over all frames.
    Cine,
    /// Separate pictures (the tiles of a slide, the pages of a document, the slices of a
    /// volume, B-scans): each frame is searched and blanked on its own, as a single-frame image.
    /// Text on one tile is on no other, and a box spread to every tile would blank tissue.
    Separate,
}

/// SOP classes whose frames are one screen over time: Ultrasound Multi-frame (and its retired
/// class), X-Ray Angiographic and Radiofluoroscopic (and their enhanced and bi-plane classes),
/// and the video classes (endoscopic, microscopic, photographic).
pub const CINE_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.3",
    "1.2.840.10008.5.1.4.1.1.3.1",
    "1.2.840.10008.5.1.4.1.1.12.1",
    "1.2.840.10008.5.1.4.1.1.12.1.1",
    "1.2.840.10008.5.1.4.1.1.12.2",
    "1.2.840.10008.5.1.4.1.1.12.2.1",
    "1.2.840.10008.5.1.4.1.1.12.3",
    "1.2.840.10008.5.1.4.1.1.77.1.1.1",
    "1.2.840.10008.5.1.4.1.1.77.1.2.1",
    "1.2.840.10008.5.1.4.1.1.77.1.4.1",
];

impl FrameSet {
    /// The frame set of an image with `frames` frames: a cine when its SOP class is one of
    /// [`CINE_CLASSES`] and it is not tiled (no Dimension Organization Type `TILED_*`, no
    /// Total Pixel Matrix); separate pictures otherwise, the safe reading for a class kamei does
    /// not know (each frame is then cleaned as fully as a single-frame image). One frame is a
    /// cine of one.
    pub fn of(ds: &DataSet, frames: u32) -> FrameSet {
        if frames <= 1 {
            return FrameSet::Cine;
        }
        let tiled = ds.ascii(tags::DIMENSION_ORGANIZATION_TYPE).is_some_and(|v| v.starts_with("TILED"))
            || ds.get(tags::TOTAL_PIXEL_MATRIX_ROWS).is_some()
            || ds.get(tags::TOTAL_PIXEL_MATRIX_COLUMNS).is_some();
        let cine_class = ds.ascii(tags::SOP_CLASS_UID).is_some_and(|c| CINE_CLASSES.contains(&c));
        if cine_class && !tiled { FrameSet::Cine } else { FrameSet::Separate }
    }
}

/// The result of cleaning one image.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The boxes blanked (empty: nothing found, pixels unchanged).
    pub boxes: Vec<CleanedBox>,
    /// The pixels to write: blanked when any box was, or with the bits outside Bits Stored
    /// cleared when those carried values; `None` when the source pixel data is kept or the
    /// image is rewritten frame by frame.
    pub frames: Option<Frames>,
    /// The pixels to write, for a multi-frame image decoded one frame at a time: each frame is
    /// decoded again, blanked and cleared as the output is written.
    pub by_frame: Option<Arc<rewrite::Rewritten>>,
    /// Number of frames examined.
    pub frame_count: u32,
    /// The source transfer syntax.
    pub source_ts: String,
    /// The first frame before and after blanking, when a preview was asked for.
    pub preview: Option<(RgbImage, RgbImage)>,
    /// Whether [`finish`] wrote the blanked pixels into the file (they are moved there).
    pub rewritten: bool,
    /// Decisions worth an audit note (no values).
    pub notes: Vec<String>,
}

/// Why an image that must be cleaned cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanError {
    /// The pixel data could not be decoded (unsupported codec, broken stream...).
    Decode(decode::DecodeError),
    /// The data set could not be converted to Explicit VR Little Endian.
    Transcode(String),
    /// The pixel data holds more than the frames Number of Frames declares (this many): the
    /// frames beyond would leave without being examined.
    UndeclaredFrames(u32),
    /// A device rule with rectangles matches a tiled image whose tiles cannot be placed in the
    /// whole image (the rule's name, and why): its rectangles, given in the whole image's
    /// coordinates, cannot be blanked where they belong.
    UnplacedRule(String, String),
}

impl std::fmt::Display for CleanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CleanError::Decode(e) => write!(
                f,
                "the image may carry burned-in text and its pixel data cannot be decoded for cleaning ({e}); not released"
            ),
            CleanError::Transcode(e) => write!(f, "the cleaned image cannot be written: {e}; not released"),
            CleanError::UndeclaredFrames(n) => write!(
                f,
                "pixel data holds more than the {n} frame(s) Number of Frames declares; not released (frames beyond the declared ones would not be examined for burned-in text)"
            ),
            CleanError::UnplacedRule(rule, why) => write!(
                f,
                "device rule {rule} matches this tiled image, but its tiles cannot be placed in the whole image ({why}), so the rule's rectangles cannot be blanked where they belong; not released"
            ),
        }
    }
}

impl std::error::Error for CleanError {}

/// Cleans burned-in text; built once per run, shared by the workers.
#[derive(Debug, Clone)]
pub struct PixelCleaner {
    rules: Vec<Rule>,
    clean_all: bool,
    trust_burned_in_no: bool,
    detector: Detector,
}

impl PixelCleaner {
    /// The built-in rules plus the user's folder.
    ///
    /// # Errors
    /// [`RuleError`] for an unreadable folder, an invalid rule file or a duplicate rule name.
    pub fn new(options: &PixelOptions) -> Result<PixelCleaner, RuleError> {
        let mut all = rules::builtin();
        if let Some(dir) = &options.rules_dir {
            all.extend(rules::load_dir(dir)?);
        }
        rules::check_unique(&all).map_err(|message| RuleError {
            file: options.rules_dir.clone().unwrap_or_default(),
            line: 0,
            column: 0,
            message,
        })?;
        Ok(PixelCleaner::with_rules(all, options))
    }

    /// A cleaner with exactly these rules (tests, embedding).
    pub fn with_rules(rules: Vec<Rule>, options: &PixelOptions) -> PixelCleaner {
        PixelCleaner {
            rules,
            clean_all: options.clean_all,
            trust_burned_in_no: options.trust_burned_in_no,
            detector: Detector::default(),
        }
    }

    /// The rules in effect.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A short digest of everything that decides the cleaned pixels (rules, selection flags,
    /// detector settings, kamei version), recorded with the run so a resumed run into the same
    /// output uses the same.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        // `select-2`: which images are selected (screen captures and images a device rule
        // matches since 2026-12); an output made with an older selection is not resumed.
        // `voi-1`: images of more than 8 bits stored are also searched through a viewer's
        // window (since 2026-12).
        let text = format!(
            "select-2|voi-1|{:?}|{}|{}|{:?}|{}",
            self.rules,
            self.clean_all,
            self.trust_burned_in_no,
            self.detector,
            env!("CARGO_PKG_VERSION")
        );
        format!("sha256:{}", &hex::encode(Sha256::digest(text.as_bytes()))[..16])
    }

    /// Whether the image in `ds` (the source data set, `big_endian` as its transfer syntax
    /// says) must be cleaned, and why. Burned In Annotation NO trusted (`trust_burned_in_no`)
    /// wins over the modality and over a device rule: the operator's decision.
    pub fn select(&self, ds: &DataSet, big_endian: bool) -> Option<Selected> {
        if !crate::annotated::has_pixels(ds) {
            return None;
        }
        let burned_in = BurnedInValue::read(ds);
        if burned_in.says_yes() {
            return Some(Selected::Declared);
        }
        let trusted_no = burned_in == BurnedInValue::No && self.trust_burned_in_no;
        if !trusted_no && crate::annotated::is_annotated_image(ds) {
            return Some(Selected::Annotated);
        }
        if !trusted_no && self.rules.iter().any(|r| !r.blank.is_empty() && r.matches(ds, big_endian)) {
            return Some(Selected::Rule);
        }
        self.clean_all.then_some(Selected::Forced)
    }

    /// Whether the image in `ds` is left uncleaned only because Burned In Annotation NO is
    /// trusted (`trust_burned_in_no`) on a modality or SOP class that usually carries text: the
    /// operator's decision, which the pipeline records instead of failing the image.
    pub fn trusts_burned_in_no(&self, ds: &DataSet, big_endian: bool) -> bool {
        self.trust_burned_in_no && self.select(ds, big_endian).is_none() && BurnedInValue::read(ds) == BurnedInValue::No
    }

    /// Decode the image of `file` (as read, before the planner's edits), find the boxes to
    /// blank and blank them in every frame. `input` is the source path for pixel data left
    /// there; `preview` asks for the first frame before and after.
    ///
    /// # Errors
    /// [`CleanError::Decode`] if the pixel data cannot be decoded;
    /// [`CleanError::UndeclaredFrames`] if it holds more than Number of Frames declares.
    pub fn clean(&self, file: &DicomFile, input: Option<&Path>, preview: bool) -> Result<Cleaned, CleanError> {
        let ds = &file.dataset;
        let big_endian = file.transfer_syntax.encoding.big_endian;
        // A multi-frame image is decoded one frame at a time, three times (statistics,
        // detection, writing), so memory does not grow with the number of frames.
        if let Some(source) =
            FrameSource::open(ds, &file.transfer_syntax, input, file.source_stamp).map_err(CleanError::Decode)?
        {
            return self.clean_by_frame(file, source, preview);
        }
        let stored = decode::load(ds, &file.transfer_syntax, input).map_err(CleanError::Decode)?;
        // Frames beyond the declared count would be released without being looked at.
        if let Some(declared) = decode::undeclared_frames(ds, &file.transfer_syntax, &stored) {
            return Err(CleanError::UndeclaredFrames(declared));
        }
        let mut frames = decode::decode_stored(ds, &file.transfer_syntax, &stored).map_err(CleanError::Decode)?;
        drop(stored);
        let grey = GreyMap::of(&frames);
        let window = || voi::Window::of(ds, &frames, (grey.lo, grey.hi), big_endian);
        let (boxes, mut notes) = self.find_boxes(ds, big_endian, &Image::Whole(&frames), &grey, window)?;
        let frame_count = frames.frames;
        let source_ts = file.transfer_syntax.uid.clone();
        let cleaned = |frames, preview, notes| Cleaned {
            boxes: boxes.clone(),
            frames,
            by_frame: None,
            frame_count,
            source_ts: source_ts.clone(),
            preview,
            notes,
            rewritten: false,
        };
        if boxes.is_empty() {
            let preview = preview.then(|| {
                let before = render(&frames, 0, &grey);
                (before.clone(), before)
            });
            // The detector sees the bits within Bits Stored only. Bits outside them that carry
            // anything (an overlay drawn into the unused high bits, PS3.5 8.1.2 retired, whether
            // or not a 60xx group declares it) show in any viewer that ignores Bits Stored: the
            // pixel data is rewritten with them cleared rather than released as it was.
            if frames.clear_unused_bits() {
                notes.push(UNUSED_BITS_NOTE.to_string());
                return Ok(cleaned(Some(frames), preview, notes));
            }
            return Ok(cleaned(None, preview, notes));
        }
        let before = preview.then(|| render(&frames, 0, &grey));
        let v = blank_value(&frames, || frames_min_max(&frames));
        for frame in 0..frames.frames {
            rewrite::blank_frame(&mut frames, frame, frame, &boxes, v);
        }
        let preview = before.map(|b| {
            let rects: Vec<Rect> = boxes.iter().filter(|c| c.in_frame(0)).map(|c| c.rect).collect();
            (preview::outline(b, &rects), preview::outline(render(&frames, 0, &grey), &rects))
        });
        Ok(cleaned(Some(frames), preview, notes))
    }

    /// [`PixelCleaner::clean`] for an image decoded one frame at a time: a pass over the frames
    /// for what the whole image's values decide (the display map's sample, the lowest and
    /// highest value, whether a palette maps any sample, bits outside Bits Stored), one for
    /// detection, and the frames are decoded a third time as the output is written
    /// ([`rewrite::Rewritten`]). The boxes, blank value and written bytes are those of the
    /// whole decode.
    fn clean_by_frame(&self, file: &DicomFile, mut source: FrameSource, preview: bool) -> Result<Cleaned, CleanError> {
        let ds = &file.dataset;
        let big_endian = file.transfer_syntax.encoding.big_endian;
        let stats = FrameStats::of(&source).map_err(CleanError::Decode)?;
        if source.palette().is_some() && !stats.palette_maps {
            source.drop_palette();
        }
        let mut first = source.frame(0).map_err(CleanError::Decode)?;
        let grey = GreyMap::from_tails(&stats.tails, stats.samples, first.rows as f64 * first.cols as f64);
        let window = || voi::Window::of_sample(ds, &first, || stats.sorted.clone(), (grey.lo, grey.hi), big_endian);
        let (boxes, mut notes) = self.find_boxes(ds, big_endian, &Image::ByFrame(&source), &grey, window)?;
        let frame_count = source.frames();
        let source_ts = file.transfer_syntax.uid.clone();
        let before = preview.then(|| render(&first, 0, &grey));
        if boxes.is_empty() && !stats.unused_bits {
            let preview = before.map(|b| (b.clone(), b));
            return Ok(Cleaned {
                boxes,
                frames: None,
                by_frame: None,
                frame_count,
                source_ts,
                preview,
                notes,
                rewritten: false,
            });
        }
        if boxes.is_empty() {
            notes.push(UNUSED_BITS_NOTE.to_string());
        }
        let v = blank_value(&first, || (stats.min, stats.max));
        let preview = before.map(|b| {
            let rects: Vec<Rect> = boxes.iter().filter(|c| c.in_frame(0)).map(|c| c.rect).collect();
            let mut after = first.clone();
            rewrite::blank_frame(&mut after, 0, 0, &boxes, v);
            let after = if boxes.is_empty() { b.clone() } else { render(&after, 0, &grey) };
            if boxes.is_empty() { (b, after) } else { (preview::outline(b, &rects), preview::outline(after, &rects)) }
        });
        first.clear_unused_bits();
        let rewritten = rewrite::Rewritten::new(source, boxes.clone(), v, first);
        Ok(Cleaned {
            boxes,
            frames: None,
            by_frame: Some(Arc::new(rewritten)),
            frame_count,
            source_ts,
            preview,
            notes,
            rewritten: false,
        })
    }

    /// The boxes to blank in `image` (decoded from `ds`): the matching device rules'
    /// rectangles, the area outside the ultrasound data regions, and the detector's boxes
    /// (searched through `grey` and, for images of more than 8 bits, the `window` when it gives
    /// one); with the notes worth an audit entry.
    ///
    /// # Errors
    /// [`CleanError::Decode`] when a frame cannot be decoded; [`CleanError::UnplacedRule`] when
    /// a rule with rectangles matches a tiled image whose tiles cannot be placed.
    fn find_boxes(
        &self,
        ds: &DataSet,
        big_endian: bool,
        image: &Image<'_>,
        grey: &GreyMap,
        window: impl FnOnce() -> Option<voi::Window>,
    ) -> Result<(Vec<CleanedBox>, Vec<String>), CleanError> {
        let (cols, rows) = image.size();
        let mut notes = Vec::new();
        let matching: Vec<&Rule> = self.rules.iter().filter(|r| r.matches(ds, big_endian)).collect();
        let mut boxes = rule_boxes(&matching, ds, image.frames(), (cols, rows), big_endian, &mut notes)?;
        if matching.iter().all(|r| r.ultrasound_regions) {
            // A region that is no real area of the image (degenerate, outside it) is left out;
            // with none left the image is cleaned as one without regions (rules, detection).
            if let Some(regions) = us_regions::data_regions(ds, cols, rows, big_endian) {
                if regions.unusable > 0 {
                    notes.push(format!(
                        "the Sequence of Ultrasound Regions has {} data region(s) that are no area of the image (degenerate or outside it); left out",
                        regions.unusable
                    ));
                }
                if regions.usable.is_empty() {
                    // `outside` of no region would be the whole image.
                    notes.push("the Sequence of Ultrasound Regions has no usable data region; not used".to_string());
                } else {
                    for rect in us_regions::outside(&regions.usable, cols, rows) {
                        boxes.push(CleanedBox {
                            rect,
                            source: BoxSource::UltrasoundRegions,
                            frame: None,
                            in_image: None,
                        });
                    }
                }
            }
        }
        if matching.iter().all(|r| r.detect) {
            let hints = hints(ds);
            // An image of more than 8 bits stored is searched a second time as a viewer shows
            // it, through its VOI window or one over the bulk of its values ([`voi`]): text a
            // little above its surroundings in a wide range is faint in the full-range planes.
            let window = window();
            let searches: Vec<(Option<u32>, Range<u32>)> = match FrameSet::of(ds, image.frames()) {
                FrameSet::Cine => vec![(None, 0..image.frames())],
                FrameSet::Separate => (0..image.frames()).map(|f| (Some(f), f..f + 1)).collect(),
            };
            for (frame, range) in searches {
                for (rect, how) in
                    self.detect_over(image, range, grey, window.as_ref(), &hints).map_err(CleanError::Decode)?
                {
                    // Boxes inside an area already blanked in this frame add nothing.
                    if boxes.iter().any(|b| b.frame.is_none_or(|g| Some(g) == frame) && b.rect.contains(&rect)) {
                        continue;
                    }
                    let source = if how == Found::Text { BoxSource::Detector } else { BoxSource::DetectorHint };
                    boxes.push(CleanedBox { rect, source, frame, in_image: None });
                }
            }
        } else {
            let off: Vec<&str> = matching.iter().filter(|r| !r.detect).map(|r| r.name.as_str()).collect();
            notes.push(format!(
                "automatic text detection off: rule {} sets detect = false; only the rule's rectangles (and the area outside the ultrasound regions) were searched",
                off.join(", ")
            ));
        }
        Ok((boxes, notes))
    }

    /// The detector's boxes over the frames `range`, searched one frame at a time in each view
    /// (the full-range planes and, when given, the VOI `window`). Over several frames (a cine)
    /// boxes kept on loose evidence wait for the other frames to confirm them, and the further
    /// passes search the brightest value of each pixel over the range.
    fn detect_over(
        &self,
        image: &Image<'_>,
        range: Range<u32>,
        grey: &GreyMap,
        window: Option<&voi::Window>,
        hints: &Hints,
    ) -> Result<Vec<(Rect, Found)>, decode::DecodeError> {
        let views = if window.is_some() { 2 } else { 1 };
        let cine = range.len() > 1;
        let mut found: Vec<(Rect, Found)> = Vec::new();
        // Per view, the brightest value of each pixel over the frames, for the further passes.
        let mut brightest: Vec<Option<(GrayImage, GrayImage)>> = vec![None; views];
        let mut loose: Vec<(u32, Rect, Found)> = Vec::new();
        let mut seen: Vec<(u32, Rect)> = Vec::new();
        for f in range.clone() {
            let (frames, at) = image.frame(f)?;
            for (view, acc) in brightest.iter_mut().enumerate() {
                // One view's planes at a time: a frame can be 64 Mpixel.
                let planes = match (window, view) {
                    (Some(w), 1) => grey_planes(&frames, at, |v| w.map(v)),
                    _ => planes(&frames, at, grey),
                };
                let detect::FrameBoxes { clear, loose: maybe } = self.detector.detect_frame_split(&planes, hints);
                if cine {
                    seen.extend(clear.iter().chain(&maybe).map(|(r, _)| (f, *r)));
                    loose.extend(maybe.into_iter().map(|(r, how)| (f, r, how)));
                } else {
                    found.extend(maybe);
                }
                found.extend(clear);
                found = detect::merge(found);
                // Keep only the two searched planes (moved, not copied), and drop the others
                // before the next view, frame or the further passes.
                let Planes { light, dark, tone, .. } = planes;
                let (light, dark) = tone.unwrap_or((light, dark));
                match acc {
                    None => *acc = Some((light, dark)),
                    Some((l, d)) => {
                        brighten(l, &light);
                        brighten(d, &dark);
                    }
                }
            }
        }
        found.extend(corroborated(&loose, &seen, range.len() as u32));
        found = detect::merge(found);
        for (light, dark) in brightest.iter().flatten() {
            found.extend(self.detector.detect_further(light, dark));
            found = detect::merge(found);
        }
        Ok(found)
    }
}

/// The boxes of the `matching` rules' rectangles on an image of `frames` frames of `size`
/// (Columns, Rows) from `ds`. Rectangles are in the whole image's coordinates: on an image that
/// is not tiled, each frame's, and the box is blanked in every frame; on a tiled image, the
/// Total Pixel Matrix's, and each tile the rectangle crosses gets the piece it holds
/// ([`tiles`]). A rectangle that lies outside the whole image blanks nothing and says so in
/// `notes` (the rule was written for another layout).
///
/// # Errors
/// [`CleanError::UnplacedRule`] when a rectangle must be placed on tiles whose places cannot be
/// told (a rectangle over the whole of any image needs no place: every tile is blanked whole).
fn rule_boxes(
    matching: &[&Rule],
    ds: &DataSet,
    frames: u32,
    size: (u32, u32),
    big_endian: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<CleanedBox>, CleanError> {
    let mut boxes = Vec::new();
    if matching.iter().all(|r| r.blank.is_empty()) {
        return Ok(boxes);
    }
    let layout = tiles::layout(ds, frames, size, big_endian);
    for r in matching {
        let source = BoxSource::Rule(r.name.clone());
        for b in &r.blank {
            let outside = |(cols, rows): (u32, u32)| {
                format!(
                    "rule {}: rectangle [{}, {}, {}, {}] lies outside the image ({cols} × {rows}); nothing blanked for it",
                    r.name, b.x, b.y, b.width, b.height
                )
            };
            let whole = b.x == 0 && b.y == 0 && b.width >= 65535 && b.height >= 65535;
            match &layout {
                tiles::Layout::Tiled(t) if !whole => {
                    let pieces = t.pieces(b);
                    if pieces.is_empty() {
                        notes.push(outside(t.total));
                    }
                    boxes.extend(pieces.into_iter().map(|p| CleanedBox {
                        rect: p.in_frame,
                        source: source.clone(),
                        frame: Some(p.frame),
                        in_image: Some(p.in_image),
                    }));
                }
                tiles::Layout::Unknown(why) if !whole => {
                    return Err(CleanError::UnplacedRule(r.name.clone(), why.clone()));
                }
                _ => match b.clip(size.0, size.1) {
                    Some(rect) => boxes.push(CleanedBox { rect, source: source.clone(), frame: None, in_image: None }),
                    None => notes.push(outside(size)),
                },
            }
        }
    }
    Ok(boxes)
}

/// The boxes of `loose` (frame, box, how found: lines a frame of a multi-frame image kept on
/// loose evidence only) that the other frames confirm: at least half of the other `frames`
/// have a box (`seen`, every box of every frame) at the same place (their intersection is at
/// least half of their union). Text burned into a cine stays in place over frames; speckle
/// lines up by chance in one frame and elsewhere in the next.
fn corroborated(loose: &[(u32, Rect, Found)], seen: &[(u32, Rect)], frames: u32) -> Vec<(Rect, Found)> {
    let same_place = |a: &Rect, b: &Rect| {
        let (x0, y0) = (a.x.max(b.x), a.y.max(b.y));
        let (x1, y1) = (a.right().min(b.right()), a.bottom().min(b.bottom()));
        let inter = if x1 <= x0 || y1 <= y0 { 0 } else { (x1 - x0) as u64 * (y1 - y0) as u64 };
        inter * 2 >= a.union(b).area()
    };
    let needed = (frames.saturating_sub(1) as usize).div_ceil(2).max(1);
    loose
        .iter()
        .filter(|(f, r, _)| {
            let mut others: Vec<u32> =
                seen.iter().filter(|(g, o)| g != f && same_place(r, o)).map(|(g, _)| *g).collect();
            others.dedup();
            others.len() >= needed
        })
        .map(|&(_, r, how)| (r, how))
        .collect()
}

/// Keep in `acc` the brighter of its pixel and `plane`'s (frames of one image share a size).
fn brighten(acc: &mut GrayImage, plane: &GrayImage) {
    for (a, p) in acc.iter_mut().zip(plane.iter()) {
        *a = (*a).max(*p);
    }
}

/// Widths of the header's strings most likely burned in: the patient's name and its parts, ID
/// and birth date in common spellings, in character cells ([`cells`]).
fn hints(ds: &DataSet) -> Hints {
    let cs = ds
        .bytes(tags::SPECIFIC_CHARACTER_SET)
        .and_then(|b| CharacterSet::from_value_lenient(b).ok())
        .unwrap_or_else(CharacterSet::default_repertoire);
    let text = |tag, vr| ds.bytes(tag).map(|b| cs.decode(b, vr).text.trim_matches([' ', '\0']).to_string());
    let mut lengths = Vec::new();
    if let Some(name) = text(tags::PATIENT_NAME, VR::PN) {
        for group in name.split('=') {
            let parts: Vec<&str> = group.split('^').map(str::trim).filter(|p| !p.is_empty()).collect();
            lengths.extend(parts.iter().map(|p| cells(p)));
            if parts.len() > 1 {
                lengths.push(parts.iter().map(|p| cells(p)).sum::<usize>() + parts.len() - 1);
            }
        }
    }
    if let Some(id) = text(tags::PATIENT_ID, VR::LO) {
        lengths.push(id.chars().count());
    }
    if ds.bytes(tags::PATIENT_BIRTH_DATE).is_some_and(|b| !b.is_empty()) {
        lengths.extend([8, 10]);
    }
    lengths.retain(|&n| n >= 3);
    lengths.sort_unstable();
    lengths.dedup();
    Hints { lengths }
}

/// The width of `text` in character cells: one for a letter or digit, two for a full-width
/// character (kanji, kana, hangul, full-width forms), which is drawn about twice as wide. A
/// two-kanji surname (山田) is four cells, as wide as four letters of its height, not two.
fn cells(text: &str) -> usize {
    let wide = |c: char| {
        matches!(c as u32,
            0x1100..=0x115F // Hangul jamo
            | 0x2E80..=0x303E // CJK radicals, symbols and punctuation (the ideographic space)
            | 0x3041..=0x33FF // hiragana, katakana, CJK compatibility
            | 0x3400..=0x4DBF // CJK extension A
            | 0x4E00..=0x9FFF // CJK unified ideographs
            | 0xAC00..=0xD7A3 // Hangul syllables
            | 0xF900..=0xFAFF // CJK compatibility ideographs
            | 0xFF01..=0xFF60 // full-width forms
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD) // CJK extensions B and later
    };
    text.chars().map(|c| if wide(c) { 2 } else { 1 }).sum()
}

/// How grey samples map to 8 bits for display and detection: the image's value range with the
/// extreme 0.05% of one frame on each side clipped, but never more than [`MAX_CLIPPED`] pixels
/// (computed once per image, over every pixel: [`tails`]). The clip keeps a few hot or dead
/// pixels from squeezing the range; in a large frame 0.05% is a line of text (8 400 pixels of a
/// 4096 × 4096 frame), which clipped would share the top value with whatever else is bright.
/// The count is of one frame's pixels, taken over all frames: text burned into one frame of a
/// ten-frame cine is 0.05% of its pixels when it is 0.5% of that frame's, and clipping 0.05% of
/// the cine cut the top at the speckle's brightest grains, level with the text.
#[derive(Debug, Clone, Copy)]
struct GreyMap {
    lo: i64,
    hi: i64,
}

/// Most pixels [`GreyMap`] clips on each side: the 0.05% share of a frame up to 2 Mpixel frames.
const MAX_CLIPPED: f64 = 1000.0;

impl GreyMap {
    fn of(f: &Frames) -> GreyMap {
        let mut tails = GreyMap::tails();
        tails.add_frames(f);
        GreyMap::from_tails(&tails, f.data.len() / f.sample_bytes(), f.rows as f64 * f.cols as f64)
    }

    /// Empty [`tails::Tails`] that keep as many values as the map can clip, and one more.
    fn tails() -> tails::Tails {
        tails::Tails::new(MAX_CLIPPED as usize + 1)
    }

    /// The map of an image of `n` samples and `frame_pixels` pixels a frame whose samples other
    /// than padding `tails` counted.
    fn from_tails(tails: &tails::Tails, n: usize, frame_pixels: f64) -> GreyMap {
        let (Some(first), Some(last)) = (tails.lowest(0), tails.highest(0)) else {
            return GreyMap { lo: 0, hi: 1 };
        };
        let frame_pixels = frame_pixels.max(1.0);
        let clipped = (frame_pixels * 0.0005).min(MAX_CLIPPED);
        // The share of the image `clipped` is, taken from the values that are not padding.
        let k = ((tails.count() - 1) as f64 * clipped / n.max(1) as f64).round() as usize;
        let (lo, hi) = (tails.lowest(k).unwrap_or(first), tails.highest(k).unwrap_or(last));
        if hi > lo { GreyMap { lo, hi } } else { GreyMap { lo: first, hi: last.max(first + 1) } }
    }

    fn map(&self, v: i64) -> u8 {
        ((v - self.lo) as f64 * 255.0 / (self.hi - self.lo) as f64).round().clamp(0.0, 255.0) as u8
    }
}

/// The first frame of a (de-identified) file as RGB, as the cleaner sees it, for thumbnails in
/// `kamei report`. `input` is the file's path when values were left in it.
///
/// # Errors
/// [`decode::DecodeError`] if the pixel data cannot be decoded.
pub fn first_frame(file: &DicomFile, input: Option<&Path>) -> Result<RgbImage, decode::DecodeError> {
    let f = decode::decode(&file.dataset, &file.transfer_syntax, input)?;
    Ok(render(&f, 0, &GreyMap::of(&f)))
}

/// The frame as RGB for display and detection.
fn render(f: &Frames, frame: u32, grey: &GreyMap) -> RgbImage {
    let (w, h) = (f.cols, f.rows);
    let sb = f.sample_bytes();
    let base = frame as usize * f.frame_bytes();
    if f.samples == 3 {
        let shift = f.bits_stored.saturating_sub(8) as u32;
        return RgbImage::from_fn(w, h, |x, y| {
            let i = base + ((y * w + x) as usize * 3) * sb;
            let c = |k: usize| (f.decode_at(i + k * sb).max(0) >> shift).min(255) as u8;
            image::Rgb([c(0), c(1), c(2)])
        });
    }
    if let (true, Some(p)) = (f.photometric == "PALETTE COLOR", &f.palette) {
        return RgbImage::from_fn(w, h, |x, y| image::Rgb(p.rgb(f.decode_at(base + (y * w + x) as usize * sb))));
    }
    let invert = f.photometric == "MONOCHROME1";
    RgbImage::from_fn(w, h, |x, y| {
        let v = grey.map(f.decode_at(base + (y * w + x) as usize * sb));
        let v = if invert { 255 - v } else { v };
        image::Rgb([v, v, v])
    })
}

/// The detection planes of one frame.
fn planes(f: &Frames, frame: u32, grey: &GreyMap) -> Planes {
    let colour = f.samples == 3 || (f.photometric == "PALETTE COLOR" && f.palette.is_some());
    if !colour {
        return grey_planes(f, frame, |v| grey.map(v));
    }
    let rgb = render(f, frame, grey);
    let (w, h) = rgb.dimensions();
    let mut light = GrayImage::new(w, h);
    let mut dark = GrayImage::new(w, h);
    for ((p, l), d) in rgb.pixels().zip(light.iter_mut()).zip(dark.iter_mut()) {
        let [r, g, b] = p.0;
        *l = r.max(g).max(b);
        *d = 255 - r.min(g).min(b);
    }
    let tone = Some({
        let luma = GrayImage::from_fn(w, h, |x, y| {
            let [r, g, b] = rgb.get_pixel(x, y).0;
            image::Luma([((299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000) as u8])
        });
        let inverse = GrayImage::from_fn(w, h, |x, y| image::Luma([255 - luma.get_pixel(x, y).0[0]]));
        (luma, inverse)
    });
    let opponent = Some(detect::opponent(&rgb));
    Planes { light, dark, tone, opponent }
}

/// The detection planes of one frame of a grey image whose stored values `map` takes to 8 bits
/// (MONOCHROME1 is inverted after it). The light plane is the display value and the dark one
/// its inverse, made straight from the samples, without the RGB frame (3 bytes a pixel) colour
/// needs.
fn grey_planes(f: &Frames, frame: u32, map: impl Fn(i64) -> u8) -> Planes {
    let (w, h) = (f.cols, f.rows);
    let (sb, base) = (f.sample_bytes(), frame as usize * f.frame_bytes());
    let invert = f.photometric == "MONOCHROME1";
    let mut light = GrayImage::new(w, h);
    for (i, l) in light.iter_mut().enumerate() {
        let v = map(f.decode_at(base + i * sb));
        *l = if invert { 255 - v } else { v };
    }
    let mut dark = light.clone();
    dark.iter_mut().for_each(|d| *d = 255 - *d);
    Planes { light, dark, tone: None, opponent: None }
}

/// The detection planes of the first frame of a decoded image (for tuning the detector).
pub fn first_planes(f: &Frames) -> Planes {
    planes(f, 0, &GreyMap::of(f))
}

/// The value blanked boxes get (see the module documentation); `min_max` gives the lowest and
/// highest stored value of the image (asked for grey images only).
fn blank_value(f: &Frames, min_max: impl FnOnce() -> (i64, i64)) -> i64 {
    match f.photometric.as_str() {
        "RGB" => 0,
        "PALETTE COLOR" => {
            let (lo, hi) = f.value_range();
            f.palette.as_ref().map_or(0i64.clamp(lo, hi), |p| p.darkest_within(lo, hi))
        }
        pi => {
            let (min, max) = min_max();
            if pi == "MONOCHROME1" { max } else { min }
        }
    }
}

/// The lowest and highest stored value of `f` (0 when it has no sample).
fn frames_min_max(f: &Frames) -> (i64, i64) {
    let n = f.data.len() / f.sample_bytes();
    let values = (0..n).map(|i| f.decode_at(i * f.sample_bytes()));
    values
        .fold(None, |acc: Option<(i64, i64)>, v| Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v)))))
        .unwrap_or((0, 0))
}

/// The audit note of an image in which nothing was found but bits outside Bits Stored carried
/// values.
const UNUSED_BITS_NOTE: &str = "(7FE0,0010): no text found, but bits outside Bits Stored carried values; the pixel data was rewritten with them cleared";

/// The frames of an image being cleaned: decoded whole, or one at a time.
enum Image<'a> {
    /// Every frame, decoded.
    Whole(&'a Frames),
    /// Decoded frame by frame from the source.
    ByFrame(&'a FrameSource),
}

impl Image<'_> {
    /// Columns and rows.
    fn size(&self) -> (u32, u32) {
        match self {
            Image::Whole(f) => (f.cols, f.rows),
            Image::ByFrame(s) => s.size(),
        }
    }

    /// Number of frames.
    fn frames(&self) -> u32 {
        match self {
            Image::Whole(f) => f.frames,
            Image::ByFrame(s) => s.frames(),
        }
    }

    /// Frame `i`: decoded frames holding it, and its index in them.
    fn frame(&self, i: u32) -> Result<(Cow<'_, Frames>, u32), decode::DecodeError> {
        match self {
            Image::Whole(f) => Ok((Cow::Borrowed(*f), i)),
            Image::ByFrame(s) => Ok((Cow::Owned(s.frame(i)?), 0)),
        }
    }
}

/// What the whole image's values decide, gathered over its frames decoded one at a time: the
/// same as [`GreyMap::of`], [`frames_min_max`] and the palette and unused-bit checks read from
/// the whole decode.
struct FrameStats {
    /// [`Frames::sorted_sample`] of the whole image (for the VOI window).
    sorted: Vec<i64>,
    /// The extreme values of every frame, for the [`GreyMap`].
    tails: tails::Tails,
    /// Number of samples of the whole image.
    samples: usize,
    /// Lowest and highest stored value.
    min: i64,
    max: i64,
    /// Whether the palette (when there is one) maps any sample.
    palette_maps: bool,
    /// Whether any bit outside Bits Stored carries a value.
    unused_bits: bool,
}

impl FrameStats {
    fn of(source: &FrameSource) -> Result<FrameStats, decode::DecodeError> {
        let mut stats = FrameStats {
            sorted: Vec::new(),
            tails: GreyMap::tails(),
            samples: 0,
            min: 0,
            max: 0,
            palette_maps: false,
            unused_bits: false,
        };
        let mut range: Option<(i64, i64)> = None;
        let mut step = 0;
        for i in 0..source.frames() {
            let mut f = source.frame(i)?;
            let sb = f.sample_bytes();
            let n = f.data.len() / sb;
            if i == 0 {
                step = decode::sample_step(n * source.frames() as usize);
            }
            f.sample_into(stats.samples, step, &mut stats.sorted);
            stats.tails.add_frames(&f);
            stats.samples += n;
            let (lo, hi) = frames_min_max(&f);
            range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            if let Some(p) = &f.palette {
                stats.palette_maps = stats.palette_maps || (0..n).any(|k| p.maps(f.decode_at(k * sb)));
            }
            stats.unused_bits |= f.clear_unused_bits();
        }
        stats.sorted.sort_unstable();
        (stats.min, stats.max) = range.unwrap_or((0, 0));
        Ok(stats)
    }
}

/// After the planner's edits: move the cleaned pixels into `file` (uncompressed Explicit VR
/// Little Endian, the whole data set converted), set Burned In Annotation NO and add code
/// 113101 to the De-identification Method Code Sequence. `file.transfer_syntax` must still be
/// the source's. `input` is the source path, for values left there.
///
/// # Errors
/// [`CleanError::Transcode`] if a value left in the source cannot be read again.
pub fn finish(file: &mut DicomFile, cleaned: &mut Cleaned, input: Option<&Path>) -> Result<(), CleanError> {
    if let Some(by_frame) = cleaned.by_frame.take() {
        // The source's pixel data is replaced: out before the conversion, which would read
        // pixel data left in a big endian source whole to swap it.
        file.dataset.remove(tags::PIXEL_DATA);
        let from = file.transfer_syntax.encoding;
        crate::transcode::to_explicit_le(&mut file.dataset, from, input)
            .map_err(|e| CleanError::Transcode(e.to_string()))?;
        encode::write_by_frame(&mut file.dataset, by_frame, &cleaned.source_ts);
        cleaned.rewritten = true;
        let ts = TransferSyntax::explicit_le();
        file.meta.put(Element::new(tags::TRANSFER_SYNTAX_UID, VR::UI, format!("{}\0", ts.uid).into_bytes()));
        file.transfer_syntax = ts;
    }
    if let Some(frames) = cleaned.frames.take() {
        let from = file.transfer_syntax.encoding;
        crate::transcode::to_explicit_le(&mut file.dataset, from, input)
            .map_err(|e| CleanError::Transcode(e.to_string()))?;
        // The frames were decoded from the source's samples: an overlay embedded in their
        // unused bits (which the planner cleared in the source's pixel data) would come back.
        let mut frames = frames;
        if frames.clear_unused_bits() {
            cleaned
                .notes
                .push("(7FE0,0010): the bits outside Bits Stored were cleared in the rewritten pixel data".into());
        }
        encode::write_back(&mut file.dataset, frames, &cleaned.source_ts);
        cleaned.rewritten = true;
        let ts = TransferSyntax::explicit_le();
        file.meta.put(Element::new(tags::TRANSFER_SYNTAX_UID, VR::UI, format!("{}\0", ts.uid).into_bytes()));
        file.transfer_syntax = ts;
    }
    file.dataset.put(Element::new(tags::BURNED_IN_ANNOTATION, VR::CS, b"NO".to_vec()));
    add_method_code(&mut file.dataset);
    Ok(())
}

/// Add 113101 (Clean Pixel Data Option) to (0012,0064), keeping the items sorted by code value.
fn add_method_code(ds: &mut DataSet) {
    let (value, meaning) = method_code(Some(DeidOption::CleanPixelData));
    let item = DataSet::from_elements([
        Element::new(tags::CODE_VALUE, VR::SH, value.as_bytes().to_vec()),
        Element::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, b"DCM".to_vec()),
        Element::new(tags::CODE_MEANING, VR::LO, meaning.as_bytes().to_vec()),
    ]);
    match ds.get_mut(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).map(|e| &mut e.value) {
        Some(Value::Sequence(seq)) => {
            let has = seq.items.iter().any(|i| i.dataset.ascii(tags::CODE_VALUE) == Some(value));
            if !has {
                let at = seq.items.iter().position(|i| i.dataset.ascii(tags::CODE_VALUE).unwrap_or("") > value);
                let new = crate::dataset::Item { dataset: item, undefined_length: true };
                match at {
                    Some(i) => seq.items.insert(i, new),
                    None => seq.items.push(new),
                }
            }
        }
        _ => ds.put(Element::sequence(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE, vec![item])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(modality: &str, burned: Option<&str>) -> DataSet {
        let mut d = DataSet::from_elements([
            Element::new(tags::MODALITY, VR::CS, modality.as_bytes().to_vec()),
            Element::new(tags::PIXEL_DATA, VR::OB, vec![0; 4]),
        ]);
        if let Some(b) = burned {
            d.put(Element::new(tags::BURNED_IN_ANNOTATION, VR::CS, b.as_bytes().to_vec()));
        }
        d
    }

    #[test]
    fn selection_follows_the_header_and_the_options() {
        let c = PixelCleaner::with_rules(vec![], &PixelOptions::default());
        assert_eq!(c.select(&ds("CT", Some("YES")), false), Some(Selected::Declared));
        assert_eq!(c.select(&ds("US", None), false), Some(Selected::Annotated));
        assert_eq!(c.select(&ds("US", Some("NO")), false), Some(Selected::Annotated), "NO is not trusted by default");
        assert_eq!(c.select(&ds("CT", None), false), None);
        assert_eq!(c.select(&ds("CT", Some("NO")), false), None);
        let trust = PixelCleaner::with_rules(vec![], &PixelOptions { trust_burned_in_no: true, ..Default::default() });
        assert_eq!(trust.select(&ds("US", Some("NO")), false), None);
        let all = PixelCleaner::with_rules(vec![], &PixelOptions { clean_all: true, ..Default::default() });
        assert_eq!(all.select(&ds("CT", Some("NO")), false), Some(Selected::Forced));
        assert_eq!(c.select(&ds("PX", None), false), Some(Selected::Annotated));
        assert_eq!(c.select(&ds("IO", Some("NO")), false), Some(Selected::Annotated));
        assert!(!c.trusts_burned_in_no(&ds("US", Some("NO")), false));
        assert!(trust.trusts_burned_in_no(&ds("US", Some("NO")), false));
        assert!(!trust.trusts_burned_in_no(&ds("US", None), false));
        let mut no_pixels = ds("US", Some("YES"));
        no_pixels.remove(tags::PIXEL_DATA);
        assert_eq!(all.select(&no_pixels, false), None);
    }

    #[test]
    fn a_loose_box_of_a_cine_is_kept_only_where_half_the_other_frames_show_a_line() {
        let text = Rect::new(10, 10, 120, 20);
        let grains = Rect::new(200, 90, 60, 14);
        // Text in every one of five frames; the grains line up in frame 2 and, elsewhere, in 3.
        let mut seen: Vec<(u32, Rect)> = (0..5).map(|f| (f, Rect::new(11, 10, 118, 20))).collect();
        seen.push((2, grains));
        seen.push((3, Rect::new(230, 100, 60, 14)));
        let loose = [(0, text, Found::Text), (2, grains, Found::Text)];
        assert_eq!(corroborated(&loose, &seen, 5), vec![(text, Found::Text)]);
        // Two frames: the other one must show it.
        assert!(corroborated(&[(0, text, Found::Text)], &[(0, text)], 2).is_empty());
        assert_eq!(corroborated(&[(0, text, Found::Text)], &[(0, text), (1, text)], 2).len(), 1);
    }

    #[test]
    fn one_other_frame_of_five_does_not_confirm_a_loose_box() {
        // Speckle can line up at one place in two of five frames by chance; burned-in text stays
        // on screen. Two of the four other frames confirm; one does not, even with two boxes
        // there (a frame counts once).
        let grains = Rect::new(200, 90, 60, 14);
        let loose = [(0, grains, Found::Text)];
        let once = [(0, grains), (1, grains), (1, Rect::new(202, 90, 60, 14))];
        assert!(corroborated(&loose, &once, 5).is_empty());
        let twice = [(0, grains), (1, grains), (3, grains)];
        assert_eq!(corroborated(&loose, &twice, 5), vec![(grains, Found::Text)]);
        // A box overlapping the loose one by less than half their union is elsewhere.
        let beside = [(0, grains), (1, Rect::new(230, 90, 60, 14)), (3, Rect::new(230, 90, 60, 14))];
        assert!(corroborated(&loose, &beside, 5).is_empty());
    }

    #[test]
    fn method_code_is_added_once_in_order() {
        let mut d = DataSet::from_elements([Element::sequence(
            tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
            vec![
                DataSet::from_elements([Element::new(tags::CODE_VALUE, VR::SH, b"113100".to_vec())]),
                DataSet::from_elements([Element::new(tags::CODE_VALUE, VR::SH, b"113107".to_vec())]),
            ],
        )]);
        add_method_code(&mut d);
        add_method_code(&mut d);
        let seq = d.get(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE).unwrap().value.sequence().unwrap();
        let codes: Vec<&str> = seq.items.iter().map(|i| i.dataset.ascii(tags::CODE_VALUE).unwrap()).collect();
        assert_eq!(codes, ["113100", "113101", "113107"]);
    }

    #[test]
    fn detector_finds_synthetic_text_with_little_collateral() {
        let Some(fonts) = synth::fonts_or_skip() else { return };
        let cleaner = PixelCleaner::with_rules(vec![], &PixelOptions::default());
        let mut total = synth::Score::default();
        for seed in 0..24 {
            let scene = synth::scene(seed, &fonts, &[]);
            let cleaned = cleaner.clean(&synth::to_file(&scene), None, false).unwrap();
            let boxes: Vec<Rect> = cleaned.boxes.iter().map(|b| b.rect).collect();
            total.add(&synth::Score::of(&scene, &boxes));
        }
        assert!(total.recall() >= 0.97, "recall {:.4}", total.recall());
        assert!(total.collateral() <= 0.03, "collateral {:.4}", total.collateral());
    }

    #[test]
    fn faint_text_in_12_and_16_bit_images_is_found_as_a_viewer_shows_it() {
        // Grey scenes squeezed into 20..35% of the stored range under a marker at the top of it
        // (synth::faint): mapped by the full range their text is a fifth as contrasted; through
        // the header's window (16 bits) or a window over the bulk of the values (12 bits) it is
        // the scene as drawn.
        let Some(fonts) = synth::fonts_or_skip() else { return };
        let cleaner = PixelCleaner::with_rules(vec![], &PixelOptions::default());
        let mut total = synth::Score::default();
        for seed in 0..40 {
            let scene = synth::scene(seed, &fonts, &[]);
            if scene.samples != 1 {
                continue;
            }
            for (bits, window) in [(12, false), (16, true)] {
                let faint = synth::faint(&scene, bits, window);
                let cleaned = cleaner.clean(&synth::to_file(&faint), None, false).unwrap();
                let boxes: Vec<Rect> = cleaned.boxes.iter().map(|b| b.rect).collect();
                total.add(&synth::Score::of(&faint, &boxes));
            }
        }
        assert!(total.recall() >= 0.95, "recall {:.4}", total.recall());
        assert!(total.collateral() <= 0.03, "collateral {:.4}", total.collateral());
    }

    /// Blank grey frames (one sample, `bits_stored` of `bits_allocated`, high bit at the top of
    /// the stored bits) for the tests to draw their values into.
    fn grey_frames(
        cols: u32,
        rows: u32,
        frames: u32,
        bits_allocated: u16,
        bits_stored: u16,
        signed: bool,
        photometric: &str,
    ) -> Frames {
        Frames {
            rows,
            cols,
            frames,
            samples: 1,
            bits_allocated,
            bits_stored,
            high_bit: bits_stored - 1,
            signed,
            photometric: photometric.into(),
            palette: None,
            data: vec![0; (cols * rows * frames) as usize * (bits_allocated as usize / 8)],
            lossy: false,
            compressed_bytes: None,
            padding: None,
        }
    }

    #[test]
    fn grey_planes_made_from_the_samples_are_those_of_the_rendered_frame() {
        for (pi, bits, signed) in [("MONOCHROME2", 16, true), ("MONOCHROME1", 16, false), ("MONOCHROME2", 8, false)] {
            let (cols, rows) = (37u32, 23u32);
            let sb = bits as usize / 8;
            let mut f = grey_frames(cols, rows, 2, bits, if bits == 16 { 12 } else { 8 }, signed, pi);
            for i in 0..(cols * rows * 2) as usize {
                f.encode_at(i * sb, (i as i64 * 7919) % 300 - if signed { 150 } else { 0 });
            }
            let grey = GreyMap::of(&f);
            for frame in 0..2 {
                let rgb = render(&f, frame, &grey);
                let p = planes(&f, frame, &grey);
                let light: Vec<u8> = rgb.pixels().map(|px| px.0[0]).collect();
                assert_eq!(p.light.as_raw(), &light, "{pi} {bits}");
                assert!(p.dark.iter().zip(&light).all(|(d, l)| *d == 255 - l));
                assert!(p.tone.is_none() && p.opponent.is_none());
            }
        }
    }

    #[test]
    fn a_bright_line_of_text_in_a_large_frame_is_not_clipped_into_the_noise() {
        // 2048 x 2048, 16 bits: noise 0..800 and 1500 pixels (0.036%, a line of text) at 4000.
        let (cols, rows) = (2048u32, 2048u32);
        let n = (cols * rows) as usize;
        let mut f = grey_frames(cols, rows, 1, 16, 12, false, "MONOCHROME2");
        // Every 2797th pixel (a prime, so the map's sampling stride does not line up with it).
        for i in 0..n {
            let v = if i % 2797 == 0 { 4000 } else { ((i as u64 * 2_654_435_761) % 801) as i64 };
            f.encode_at(i * 2, v);
        }
        let g = GreyMap::of(&f);
        assert_eq!(g.hi, 4000, "the text's value is the top of the range");
        assert!(g.map(800) < 60, "the noise stays dark: {}", g.map(800));
        // A small frame keeps the 0.05% clip: a few hot pixels do not squeeze its range.
        let mut small = f.clone();
        small.rows = 256;
        small.cols = 256;
        small.data.truncate(256 * 256 * 2);
        for i in 0..256 * 256 {
            let v = if i % 5000 == 0 { 4095 } else { ((i as u64 * 2_654_435_761) % 801) as i64 };
            small.encode_at(i * 2, v);
        }
        assert!(GreyMap::of(&small).hi <= 800);
    }

    #[test]
    fn text_in_one_frame_of_ten_is_not_clipped_into_the_speckle() {
        // Ten 8-bit frames of noise 0..200, and in the first one 1000 pixels (0.3% of a frame,
        // 0.03% of the image: a few lines of text) at 255.
        let (cols, rows, frames) = (640u32, 480u32, 10u32);
        let n = (cols * rows * frames) as usize;
        let mut f = grey_frames(cols, rows, frames, 8, 8, false, "MONOCHROME2");
        for i in 0..n {
            let text = i < (cols * rows) as usize && i % 307 == 0;
            let v = if text { 255 } else { ((i as u64 * 2_654_435_761) % 201) as i64 };
            f.encode_at(i, v);
        }
        let g = GreyMap::of(&f);
        assert_eq!(g.hi, 255, "the text's value is the top of the range");
        assert!(g.map(200) < 210, "the speckle stays below the text: {}", g.map(200));
    }

    #[test]
    fn a_short_stroke_in_any_one_frame_is_the_top_of_the_range() {
        // 300 8-bit frames of 64 x 64 noise 0..100 (1.2 million samples, more than the VOI
        // window's sample takes) and, in one frame, a stroke of 5 pixels at 255: more than the
        // 2 pixels a 64 x 64 frame clips. Whichever frame holds it, the range ends at it.
        let (cols, rows, frames) = (64u32, 64u32, 300u32);
        let n = (cols * rows * frames) as usize;
        for text_frame in [0usize, 1, 2, 3, 4, 5, 150, 151] {
            let mut f = grey_frames(cols, rows, frames, 8, 8, false, "MONOCHROME2");
            let stroke = text_frame * (cols * rows) as usize + 10 * cols as usize + 20;
            for i in 0..n {
                let v = if (stroke..stroke + 5).contains(&i) { 255 } else { ((i as u64 * 2_654_435_761) % 101) as i64 };
                f.encode_at(i, v);
            }
            let g = GreyMap::of(&f);
            assert_eq!((g.lo, g.hi), (0, 255), "stroke in frame {text_frame}");
        }
    }

    #[test]
    fn header_hints_are_lengths_only() {
        let d = DataSet::from_elements([
            Element::new(tags::PATIENT_NAME, VR::PN, b"YAMADA^TARO".to_vec()),
            Element::new(tags::PATIENT_ID, VR::LO, b"12345678".to_vec()),
            Element::new(tags::PATIENT_BIRTH_DATE, VR::DA, b"19850315".to_vec()),
        ]);
        assert_eq!(hints(&d).lengths, vec![4, 6, 8, 10, 11]);
    }

    #[test]
    fn kanji_names_are_hinted_at_their_drawn_width() {
        // A two-kanji surname is drawn as wide as four letters of its height: it is hinted
        // (a hint of two characters was dropped as too short, and matched no width anyway).
        let d = DataSet::from_elements([
            Element::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, b"ISO_IR 192".to_vec()),
            Element::new(tags::PATIENT_NAME, VR::PN, "山田^一郎".as_bytes().to_vec()),
        ]);
        assert_eq!(hints(&d).lengths, vec![4, 9]);
        assert_eq!(cells("ﾔﾏﾀﾞ ﾀﾛｳ"), 8);
        assert_eq!(cells("ヤマダ　タロウ"), 14);
    }
}
