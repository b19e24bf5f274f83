//! Blank boxes in decoded frames, and write the cleaned frames of a multi-frame image one at a
//! time ([`Rewritten`]): each frame is decoded again from the source, blanked, its bits outside
//! Bits Stored cleared, and written straight to the output, so the output's pixel data is never
//! held whole.

use super::CleanedBox;
use super::decode::Frames;
use super::decode::by_frame::FrameSource;
use crate::dataset::Generator;

/// Blank, in frame `at` of `f`, every box of `boxes` that is blanked in the image's frame
/// `frame` (see [`CleanedBox::in_frame`]), with stored value `v`.
pub fn blank_frame(f: &mut Frames, at: u32, frame: u32, boxes: &[CleanedBox], v: i64) {
    for b in boxes.iter().filter(|b| b.in_frame(frame)) {
        for y in b.rect.y..b.rect.bottom() {
            for x in b.rect.x..b.rect.right() {
                for s in 0..f.samples {
                    let i = f.index(at, x, y, s);
                    f.encode_at(i, v);
                }
            }
        }
    }
}

/// The cleaned pixel data of an image decoded frame by frame, made as it is written (a
/// [`crate::dataset::Value::Generated`]): the same bytes the whole image blanked and cleared
/// gives.
#[derive(Debug)]
pub struct Rewritten {
    source: FrameSource,
    boxes: Vec<CleanedBox>,
    blank: i64,
    /// Frame 0 as decoded (its attributes are what is written).
    first: Frames,
}

impl Rewritten {
    /// The frames of `source` with `boxes` blanked in value `blank`; `first` is frame 0 as
    /// decoded (before blanking).
    pub fn new(source: FrameSource, boxes: Vec<CleanedBox>, blank: i64, first: Frames) -> Rewritten {
        Rewritten { source, boxes, blank, first }
    }

    /// Frame 0 as decoded: the attributes of the written pixels (every frame has them).
    pub fn first(&self) -> &Frames {
        &self.first
    }

    /// Number of frames written.
    pub fn frames(&self) -> u32 {
        self.source.frames()
    }
}

impl Generator for Rewritten {
    fn len(&self) -> u64 {
        self.first.data.len() as u64 * u64::from(self.source.frames())
    }

    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // The frames are read again: the source must still be the file that was searched.
        self.source.check_source().map_err(std::io::Error::other)?;
        for i in 0..self.source.frames() {
            let mut f = self.source.frame(i).map_err(std::io::Error::other)?;
            if f.data.len() != self.first.data.len() {
                return Err(std::io::Error::other("a frame decoded to another size than the first"));
            }
            blank_frame(&mut f, 0, i, &self.boxes, self.blank);
            f.clear_unused_bits();
            out.write_all(&f.data)?;
        }
        self.source.check_source().map_err(std::io::Error::other)
    }
}
