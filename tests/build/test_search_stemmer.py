"""The search index is stemmed by the C Snowball stemmers (PyStemmer), with the same stems."""

from __future__ import annotations

import snowballstemmer
import Stemmer
from snowballstemmer.porter_stemmer import PorterStemmer
from sphinx.search.en import SearchEnglish


def test_sphinx_stems_with_the_c_stemmer():
    # snowballstemmer hands out PyStemmer's stemmer when it is installed; Sphinx's English
    # search asks it for "porter" (27x faster than the pure-Python one on the site's words).
    assert isinstance(snowballstemmer.stemmer("porter"), Stemmer.Stemmer)
    search = SearchEnglish({})
    assert isinstance(search.stemmer, Stemmer.Stemmer)


def test_the_c_stemmer_gives_the_pure_python_stems():
    words = [
        "cytokines", "inflammatory", "antidepressants", "fluoxetine", "decreased", "increasing",
        "microglial", "interleukin", "signalling", "responders", "generalization", "happiness",
        "agreed", "conditional", "relational", "hopefulness", "formalize", "electricity",
    ]  # fmt: skip
    fast, plain = Stemmer.Stemmer("porter"), PorterStemmer()
    assert [fast.stemWord(w) for w in words] == [plain.stemWord(w) for w in words]
