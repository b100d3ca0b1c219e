"""The one error of the corpus layer: a file that is missing, malformed or inconsistent."""

__all__ = ['CorpusFormatError']


class CorpusFormatError(ValueError):
    """A corpus file is missing, malformed or inconsistent; the message names the file and the field."""

    def __init__(self, path: str, field_name: str, problem: str) -> None:
        super().__init__(f'{path}: {field_name}: {problem}')
        self.path = path
        self.field = field_name
