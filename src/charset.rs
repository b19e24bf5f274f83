//! DICOM Specific Character Set (0008,0005): decoding and encoding of text values, including
//! ISO 2022 code extensions. (Being written: see the helper brief.)
