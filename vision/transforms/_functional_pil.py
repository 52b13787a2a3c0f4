"""Image operations on PIL images: Pillow does the resampling, rotation and colour enhancement itself, as in
torchvision's PIL backend, so results match what torchvision gives for PIL inputs."""
import numpy as np
from PIL import Image, ImageEnhance

# Pillow filter numbers of InterpolationMode values (Image.Resampling in Pillow >= 9)
PIL_FILTERS = {"nearest": Image.Resampling.NEAREST, "nearest-exact": Image.Resampling.NEAREST,
               "bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
               "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING,
               "lanczos": Image.Resampling.LANCZOS}


def num_channels(img):
    return len(img.getbands())


def parse_fill(fill, img, what="fill"):
    """A Pillow colour for ``fill``: one number per band (a single number is repeated), ints except for 'F'."""
    channels = num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and channels > 1:
        fill = (fill,) * channels
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * channels
        elif len(fill) != channels:
            raise ValueError(f"{what}: the number of elements in 'fill' does not match the number of channels of the "
                             f"image ({len(fill)} != {channels})")
        fill = tuple(fill)
        if channels == 1:
            fill = fill[0]
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def resize(img, size_hw, interpolation):
    return img.resize((size_hw[1], size_hw[0]), resample=PIL_FILTERS[interpolation])


def crop(img, top, left, height, width):
    return img.crop((left, top, left + width, top + height))


def hflip(img):
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def pad(img, padding_ltrb, fill, padding_mode):
    left, top, right, bottom = padding_ltrb
    # negative padding crops
    c_l, c_t, c_r, c_b = (max(-p, 0) for p in (left, top, right, bottom))
    if c_l or c_t or c_r or c_b:
        img = img.crop((c_l, c_t, img.width - c_r, img.height - c_b))
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    palette = img.getpalette() if img.mode == "P" else None
    if padding_mode == "constant":
        out = Image.new(img.mode, (img.width + left + right, img.height + top + bottom),
                        parse_fill(fill, img, "pad"))
        if palette is not None:
            out.putpalette(palette)
        out.paste(img, (left, top))
        return out
    arr = np.asarray(img)
    if padding_mode == "reflect" and (max(left, right) >= img.width or max(top, bottom) >= img.height):
        raise ValueError(f"pad: reflect padding ({left}, {top}, {right}, {bottom}) must be smaller than the image "
                         f"size (height {img.height}, width {img.width}) on each side")
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    padded = np.ascontiguousarray(np.pad(arr, widths, mode=padding_mode))
    if img.mode == "1":  # a boolean array
        out = Image.fromarray(padded)
    else:  # the same bytes layout as the input mode (palette indices stay indices)
        out = Image.frombytes(img.mode, (padded.shape[1], padded.shape[0]), padded.tobytes())
    if palette is not None:
        out.putpalette(palette)
    return out


def rotate(img, angle, interpolation, expand, center, fill):
    if interpolation not in ("nearest", "bilinear", "bicubic"):
        raise ValueError(f"rotate: interpolation '{interpolation}' is not supported (nearest, bilinear, bicubic)")
    return img.rotate(angle, resample=PIL_FILTERS[interpolation], expand=expand, center=center,
                      fillcolor=parse_fill(fill, img, "rotate"))


def _enhance(enhancer, img, factor, what):
    try:
        return enhancer(img).enhance(factor)
    except ValueError as e:  # Pillow says only "image has wrong mode"
        raise ValueError(f"{what}: PIL images of mode {img.mode!r} are not supported ({e}); convert the image to "
                         f"'RGB' or 'L' first") from None


def adjust_brightness(img, factor):
    return _enhance(ImageEnhance.Brightness, img, factor, "adjust_brightness")


def adjust_contrast(img, factor):
    return _enhance(ImageEnhance.Contrast, img, factor, "adjust_contrast")


def adjust_saturation(img, factor):
    return _enhance(ImageEnhance.Color, img, factor, "adjust_saturation")


def adjust_hue(img, factor):
    """Shift the H band of Pillow's 8-bit HSV by ``factor`` * 255 (wrapping around the colour circle)."""
    mode = img.mode
    if mode in ("L", "1", "I", "F", "I;16"):
        return img
    h, s, v = img.convert("HSV").split()
    shift = int(factor * 255) % 256
    h_arr = (np.asarray(h, dtype=np.uint16) + shift) % 256
    h = Image.fromarray(h_arr.astype(np.uint8))
    return Image.merge("HSV", (h, s, v)).convert(mode)


def to_grayscale(img, num_output_channels):
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    return Image.merge("RGB", (gray, gray, gray))
