"""Stanford Dogs (Khosla, Jayadevaprakash, Yao & Fei-Fei 2011, "Novel Dataset for Fine-Grained Image
Categorization", CVPR workshop FGVC): 20 580 ImageNet photos of 120 dog breeds, 12 000 for training
(100 per breed) and 8 580 for testing, with bounding boxes around the dogs.

The official layout (from ``images.tar``, ``annotation.tar`` and ``lists.tar``)::

    Images/n02085620-Chihuahua/n02085620_10074.jpg
    Annotation/n02085620-Chihuahua/n02085620_10074      PASCAL VOC XML, one <object> per dog
    train_list.mat  test_list.mat  file_list.mat         file_list, annotation_list, labels (1–120)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.io

from gan_zoo.data.archives import Resource, download_verified, explained, extract_tar
from gan_zoo.data.base import Split
from gan_zoo.data.decode import Window, square_around
from gan_zoo.data.encoded import EncodedImageDataModule, ImageFiles
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.quirks import Quirks, check_image

HOMEPAGE = "http://vision.stanford.edu/aditya86/ImageNetDogs/"

#: The three official archives. Sizes and SHA-256 digests as recorded by TensorFlow Datasets
#: (``tensorflow_datasets/url_checksums/stanford_dogs.txt``).
ARCHIVES: dict[str, Resource] = {
    archive.name: archive
    for archive in (
        Resource(
            "images.tar",
            (HOMEPAGE + "images.tar",),
            size=793_579_520,
            sha256="a443fc2f9a851aa1a7b8e4fa4af94b8459fce2c9f5a2f4dd4669cf9673a4ec58",
            contents=("Images",),
        ),
        Resource(
            "annotation.tar",
            (HOMEPAGE + "annotation.tar",),
            size=21_852_160,
            sha256="662ed36f707be6b195c2fda392d8e153e83af28cedc8e2134a649f198def30fd",
            contents=("Annotation",),
        ),
        Resource(
            "lists.tar",
            (HOMEPAGE + "lists.tar",),
            size=481_280,
            sha256="34b47cacd9a98b5d150e084f24d29391c084c55272295ec65c85651bc35f4d6c",
            contents=("train_list.mat", "test_list.mat"),
        ),
    )
}

#: The 120 breed folders (``<WordNet id>-<breed>``) in label order: label k is folder k (0-based).
BREED_FOLDERS: tuple[str, ...] = (
    "n02085620-Chihuahua", "n02085782-Japanese_spaniel", "n02085936-Maltese_dog", "n02086079-Pekinese",
    "n02086240-Shih-Tzu", "n02086646-Blenheim_spaniel", "n02086910-papillon", "n02087046-toy_terrier",
    "n02087394-Rhodesian_ridgeback", "n02088094-Afghan_hound", "n02088238-basset", "n02088364-beagle",
    "n02088466-bloodhound", "n02088632-bluetick", "n02089078-black-and-tan_coonhound",
    "n02089867-Walker_hound", "n02089973-English_foxhound", "n02090379-redbone", "n02090622-borzoi",
    "n02090721-Irish_wolfhound", "n02091032-Italian_greyhound", "n02091134-whippet",
    "n02091244-Ibizan_hound", "n02091467-Norwegian_elkhound", "n02091635-otterhound", "n02091831-Saluki",
    "n02092002-Scottish_deerhound", "n02092339-Weimaraner", "n02093256-Staffordshire_bullterrier",
    "n02093428-American_Staffordshire_terrier", "n02093647-Bedlington_terrier", "n02093754-Border_terrier",
    "n02093859-Kerry_blue_terrier", "n02093991-Irish_terrier", "n02094114-Norfolk_terrier",
    "n02094258-Norwich_terrier", "n02094433-Yorkshire_terrier", "n02095314-wire-haired_fox_terrier",
    "n02095570-Lakeland_terrier", "n02095889-Sealyham_terrier", "n02096051-Airedale", "n02096177-cairn",
    "n02096294-Australian_terrier", "n02096437-Dandie_Dinmont", "n02096585-Boston_bull",
    "n02097047-miniature_schnauzer", "n02097130-giant_schnauzer", "n02097209-standard_schnauzer",
    "n02097298-Scotch_terrier", "n02097474-Tibetan_terrier", "n02097658-silky_terrier",
    "n02098105-soft-coated_wheaten_terrier", "n02098286-West_Highland_white_terrier", "n02098413-Lhasa",
    "n02099267-flat-coated_retriever", "n02099429-curly-coated_retriever", "n02099601-golden_retriever",
    "n02099712-Labrador_retriever", "n02099849-Chesapeake_Bay_retriever",
    "n02100236-German_short-haired_pointer", "n02100583-vizsla", "n02100735-English_setter",
    "n02100877-Irish_setter", "n02101006-Gordon_setter", "n02101388-Brittany_spaniel", "n02101556-clumber",
    "n02102040-English_springer", "n02102177-Welsh_springer_spaniel", "n02102318-cocker_spaniel",
    "n02102480-Sussex_spaniel", "n02102973-Irish_water_spaniel", "n02104029-kuvasz", "n02104365-schipperke",
    "n02105056-groenendael", "n02105162-malinois", "n02105251-briard", "n02105412-kelpie",
    "n02105505-komondor", "n02105641-Old_English_sheepdog", "n02105855-Shetland_sheepdog",
    "n02106030-collie", "n02106166-Border_collie", "n02106382-Bouvier_des_Flandres", "n02106550-Rottweiler",
    "n02106662-German_shepherd", "n02107142-Doberman", "n02107312-miniature_pinscher",
    "n02107574-Greater_Swiss_Mountain_dog", "n02107683-Bernese_mountain_dog", "n02107908-Appenzeller",
    "n02108000-EntleBucher", "n02108089-boxer", "n02108422-bull_mastiff", "n02108551-Tibetan_mastiff",
    "n02108915-French_bulldog", "n02109047-Great_Dane", "n02109525-Saint_Bernard", "n02109961-Eskimo_dog",
    "n02110063-malamute", "n02110185-Siberian_husky", "n02110627-affenpinscher", "n02110806-basenji",
    "n02110958-pug", "n02111129-Leonberg", "n02111277-Newfoundland", "n02111500-Great_Pyrenees",
    "n02111889-Samoyed", "n02112018-Pomeranian", "n02112137-chow", "n02112350-keeshond",
    "n02112706-Brabancon_griffon", "n02113023-Pembroke", "n02113186-Cardigan", "n02113624-toy_poodle",
    "n02113712-miniature_poodle", "n02113799-standard_poodle", "n02113978-Mexican_hairless",
    "n02115641-dingo", "n02115913-dhole", "n02116738-African_hunting_dog",
)  # fmt: skip

Crop = Literal["bbox", "full"]


def read_list(path: Path) -> list[tuple[str, str, int]]:
    """``(image file, annotation file, 0-based label)`` of every entry of a ``*_list.mat``.

    The files hold MATLAB cell arrays ``file_list`` (``n02085620-Chihuahua/n02085620_10074.jpg``),
    ``annotation_list`` (the same without ``.jpg``) and a column ``labels`` (1–120).
    """
    mat = scipy.io.loadmat(path)
    missing = {"file_list", "annotation_list", "labels"} - mat.keys()
    if missing:
        raise ValueError(f"{path} is not a Stanford Dogs list: no {', '.join(sorted(missing))}")
    files = [str(np.ravel(cell)[0]) for cell in np.ravel(mat["file_list"])]
    annotations = [str(np.ravel(cell)[0]) for cell in np.ravel(mat["annotation_list"])]
    labels = np.ravel(mat["labels"]).astype(np.int64)
    if not len(files) == len(annotations) == len(labels):
        raise ValueError(f"{path}: {len(files)} files, {len(annotations)} annotations, {len(labels)} labels")
    if len(labels) and not (labels.min() >= 1 and labels.max() <= len(BREED_FOLDERS)):
        raise ValueError(
            f"{path}: labels must be 1–{len(BREED_FOLDERS)}, found {labels.min()}–{labels.max()}"
        )
    return list(zip(files, annotations, (labels - 1).tolist(), strict=True))


def read_boxes(path: Path) -> list[Window]:
    """The ``<object><bndbox>`` boxes of a PASCAL VOC annotation, as ``(xmin, ymin, xmax, ymax)``.

    Raises:
        ValueError: the file is not XML, or a box lacks a coordinate.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise ValueError(f"{path}: {error}") from error
    boxes = []
    for box in root.iter("bndbox"):
        values = [box.findtext(tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
        if None in values:
            raise ValueError(f"{path}: a <bndbox> lacks one of xmin, ymin, xmax, ymax")
        boxes.append(tuple(float(v) for v in values))
    return boxes


def clamp_box(box: Window, width: int, height: int) -> Window:
    x0, y0, x1, y1 = box
    return (min(max(x0, 0), width), min(max(y0, 0), height), min(max(x1, 0), width), min(max(y1, 0), height))


class StanfordDogs(EncodedImageDataModule):
    """Stanford Dogs: 120 breeds, labels 0–119 in the official order (:attr:`classes` are the breed names).

    Crops:

    * ``"bbox"`` — one sample per annotated box (as the Kaggle "Generative Dog Images" competition
      did): the box, grown by ``box_margin`` of its width and height on each side, inside the square
      that holds it (see :func:`~gan_zoo.data.decode.square_around`), so the dog keeps its proportions.
    * ``"full"`` — one sample per image, its centre square.

    ``data_dir`` may hold the extracted tree, or the three archives (``prepare_data`` — which the
    Trainer calls — unpacks them), either directly or in ``data_dir/StanfordDogs``. ``download=True``
    fetches missing archives from the official site and checks their size and SHA-256.

    Setup checks every listed image (header and end of file) and annotation; the quirks are counted
    and logged: images and annotations missing their partner are skipped, boxes partly outside
    the image are clamped to it, empty boxes are skipped, odd colour modes are converted.

    Args:
        crop: ``"bbox"`` or ``"full"``.
        box_margin: fraction of a box's width / height added on each side before squaring.
        include_test: train on train + test lists (all 20 580 images, as the Kaggle competition did);
            the test split stays the test list.
        Other arguments: see :class:`~gan_zoo.data.ImageDataModule`; ``image_size`` 32, 64 or 128 suit
            the DCGAN family.
    """

    classes: ClassVar[tuple[str, ...]] = tuple(f.split("-", 1)[1].replace("_", " ") for f in BREED_FOLDERS)
    folder: ClassVar[str] = "StanfordDogs"

    def __init__(
        self, crop: Crop = "bbox", box_margin: float = 0.0, include_test: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if crop not in ("bbox", "full"):
            raise ValueError(f"crop must be 'bbox' or 'full', got {crop!r}")
        if box_margin < 0:
            raise ValueError(f"box_margin must be >= 0, got {box_margin}")
        self.crop, self.box_margin, self.include_test = crop, box_margin, include_test

    # ------------------------------------------------------------------ files
    def _needed(self) -> list[Resource]:
        names = ["images.tar", "lists.tar"] + (["annotation.tar"] if self.crop == "bbox" else [])
        return [ARCHIVES[name] for name in names]

    def _search_dirs(self) -> list[Path]:
        return [self.data_dir / self.folder, self.data_dir]

    @property
    def root(self) -> Path:
        """Where the dataset is: the first search folder holding any of it, else where it will go."""
        for directory in self._search_dirs():
            if any((directory / e).exists() for a in ARCHIVES.values() for e in (a.name, *a.contents)):
                return directory
        return self.data_dir / self.folder

    def prepare_data(self) -> None:
        root = self.root
        needed = [archive for archive in self._needed() if not archive.extracted(root)]
        for archive in needed:
            if not (root / archive.name).is_file():
                if not self.download:
                    continue  # setup says what is missing
                with explained("Stanford Dogs", [a.name for a in needed], root):
                    download_verified(archive, root)
            extract_tar(root / archive.name, root)

    def _check_files(self, root: Path) -> None:
        missing = [a for a in self._needed() if not a.extracted(root)]
        if not missing:
            return
        unpacked = [a.name for a in missing if (root / a.name).is_file()]
        hint = f"The archives are on {HOMEPAGE}."
        if unpacked:
            found = ", ".join(unpacked)
            hint = f"{found} found but not unpacked: call prepare_data() (the Trainer does). {hint}"
        raise DatasetNotFoundError.build(
            "Stanford Dogs", [a.name for a in missing], self._search_dirs(), root, hint
        )

    # ------------------------------------------------------------------ samples
    def scan(self, split: Split) -> tuple[ImageFiles, Quirks]:
        root = self.root
        self._check_files(root)
        entries = read_list(root / f"{split}_list.mat")
        if split == "train" and self.include_test:
            entries += read_list(root / "test_list.mat")
        files, labels, windows, quirks = [], [], [], Quirks()
        for file, annotation, label in entries:
            for window in self._windows(root, file, annotation, quirks):
                files.append(file)
                labels.append(label)
                windows.append(window)
        windows_array = np.array(windows, dtype=np.float64).reshape(-1, 4)
        images = ImageFiles(
            root / "Images", files, np.array(labels), self.image_size, self.out_channels, windows_array
        )
        return images, quirks

    def _windows(self, root: Path, file: str, annotation: str, quirks: Quirks) -> list[Window]:
        """The square crop windows of one listed image: one per usable box, or its centre square."""
        image, notes = root / "Images" / file, root / "Annotation" / annotation
        if not image.is_file():
            quirks.add("annotation_without_image" if notes.is_file() else "missing_image")
            return []
        conversions = Quirks()  # counted only if the image is used
        info = check_image(image, conversions, self.out_channels, path=image)
        if info is None:
            quirks.update(conversions)
            return []
        width, height = info.width, info.height
        if self.crop == "full":
            windows = [square_around((0, 0, width, height), width, height)]
        else:
            windows = self._box_windows(notes, width, height, quirks)
        if not windows:
            return []
        quirks.update(conversions)
        small = sum(w[2] - w[0] < self.image_size for w in windows)
        if small:
            quirks.add("upscaled", small)
        return windows

    def _box_windows(self, notes: Path, width: int, height: int, quirks: Quirks) -> list[Window]:
        if not notes.is_file():
            quirks.add("image_without_annotation")
            return []
        try:
            boxes = read_boxes(notes)
        except (ValueError, OSError):
            quirks.add("unreadable_annotation")
            return []
        if not boxes:
            quirks.add("annotation_without_boxes")
        windows = []
        for box in boxes:
            clamped = clamp_box(box, width, height)
            x0, y0, x1, y1 = clamped
            if x1 - x0 < 1 or y1 - y0 < 1:  # empty, inverted, or wholly outside the image
                quirks.add("degenerate_box")
                continue
            if clamped != box:
                quirks.add("box_clamped")
            mx, my = self.box_margin * (x1 - x0), self.box_margin * (y1 - y0)
            grown = clamp_box((x0 - mx, y0 - my, x1 + mx, y1 + my), width, height)
            windows.append(square_around(grown, width, height))
        return windows
